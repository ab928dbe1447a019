package main

// The mobile API's objects. No field has omitempty: the client expects every field, zero or not.

// User is a user as the mobile client sees it, relative to a viewer.
type User struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	FollowCount     int64  `json:"follow_count"`
	FollowerCount   int64  `json:"follower_count"`
	IsFollow        bool   `json:"is_follow"`
	Avatar          string `json:"avatar"`
	BackgroundImage string `json:"background_image"`
	Signature       string `json:"signature"`
	TotalFavorited  int64  `json:"total_favorited"`
	WorkCount       int64  `json:"work_count"`
	FavoriteCount   int64  `json:"favorite_count"`
}

// Video is a video as the mobile client sees it, relative to a viewer.
type Video struct {
	ID            int64  `json:"id"`
	Author        User   `json:"author"`
	PlayURL       string `json:"play_url"`
	CoverURL      string `json:"cover_url"`
	FavoriteCount int64  `json:"favorite_count"`
	CommentCount  int64  `json:"comment_count"`
	IsFavorite    bool   `json:"is_favorite"`
	Title         string `json:"title"`
}

// Comment is a comment as the mobile client sees it. CreateDate is "MM-DD".
type Comment struct {
	ID         int64  `json:"id"`
	User       User   `json:"user"`
	Content    string `json:"content"`
	CreateDate string `json:"create_date"`
}

// FriendUser is a friend (mutual follow) with the latest message between the viewer and them:
// the User fields flattened at the top level, then message and msgType (1 if the viewer sent that
// message), as the mobile client reads them.
type FriendUser struct {
	User
	Message string `json:"message"`
	MsgType int64  `json:"msgType"`
}

// Message is a chat message. CreateTime is Unix ms.
type Message struct {
	ID         int64  `json:"id"`
	ToUserID   int64  `json:"to_user_id"`
	FromUserID int64  `json:"from_user_id"`
	Content    string `json:"content"`
	CreateTime int64  `json:"create_time"`
}
