//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var userFields = []string{"id", "name", "follow_count", "follower_count", "is_follow", "avatar",
	"background_image", "signature", "total_favorited", "work_count", "favorite_count"}

func TestRegisterAndLoginEveryWayTheClientSends(t *testing.T) {
	sameOnEverySet(t)
	for _, tc := range []struct {
		name string
		send func(t *testing.T, path string, v url.Values) reply
		path string
	}{
		{"query with slash", postQuery, "/douyin/user/register/"},
		{"query without slash", postQuery, "/douyin/user/register"},
		{"form with slash", postForm, "/douyin/user/register/"},
		{"form without slash", postForm, "/douyin/user/register"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := uniqueName("reg")
			cred := url.Values{"username": {name}, "password": {"secret123"}}
			var reg struct {
				UserID int64  `json:"user_id"`
				Token  string `json:"token"`
			}
			tc.send(t, tc.path, cred).expect(t, 200, 0).decode(t, &reg)
			if reg.UserID <= 0 || reg.Token == "" {
				t.Fatalf("register answered id %d token %q", reg.UserID, reg.Token)
			}
			loginPath := strings.Replace(tc.path, "register", "login", 1)
			login := tc.send(t, loginPath, cred).expect(t, 200, 0)
			// user_id must be a JSON number, not a string.
			if _, ok := login.Body["user_id"].(float64); !ok {
				t.Fatalf("login user_id is not a number: %s", login.Raw)
			}
			var out struct {
				UserID int64  `json:"user_id"`
				Token  string `json:"token"`
			}
			login.decode(t, &out)
			if out.UserID != reg.UserID || out.Token == "" {
				t.Fatalf("login answered %s, registered id %d", login.Raw, reg.UserID)
			}
			// The register token works at once, without a login.
			get(t, "/douyin/user/", url.Values{"user_id": {strconv.FormatInt(reg.UserID, 10)}, "token": {reg.Token}}).expect(t, 200, 0)
		})
	}
}

func TestRegisterRejectsBadUsernamesAndPasswords(t *testing.T) {
	sameOnEverySet(t)
	for _, tc := range []struct {
		name, username, password string
		code                     int
	}{
		{"empty username", "", "secret123", 10003},
		{"33 characters", strings.Repeat("a", 33), "secret123", 10003},
		{"space inside", "a b" + uniqueName(""), "secret123", 10003},
		{"leading space", " " + uniqueName("s"), "secret123", 10003},
		{"tab", "a\tb", "secret123", 10003},
		{"control character", "a\x01b", "secret123", 10003},
		{"newline", "a\nb", "secret123", 10003},
		{"invalid utf-8", "a\xffb", "secret123", 10003},
		{"short password", uniqueName("p"), "12345", 10004},
		{"long password", uniqueName("p"), strings.Repeat("x", 33), 10004},
		{"missing password", uniqueName("p"), "", 10004},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{"username": {tc.username}, "password": {tc.password}}
			postQuery(t, "/douyin/user/register/", v).expect(t, 200, tc.code)
			// Nothing was created: logging in with the same credentials fails.
			if tc.username != "" && tc.password != "" {
				postQuery(t, "/douyin/user/login/", v).expect(t, 200, 20004)
			}
		})
	}
}

func TestRegisterAcceptsUnicodeAndSQLLookingNames(t *testing.T) {
	sameOnEverySet(t)
	for _, name := range []string{
		strings.Repeat("抖", 32), // 32 characters, 96 bytes
		"émile_ñandú_" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10),
		"';DROP/**/TABLE/**/accounts--" + strconv.FormatInt(time.Now().UnixNano()%1e3, 10),
		"a\"b\\c%_" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10),
		"🙂" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10),
	} {
		t.Run(name, func(t *testing.T) {
			cred := url.Values{"username": {name}, "password": {"пароль123"}}
			var reg struct {
				UserID int64  `json:"user_id"`
				Token  string `json:"token"`
			}
			postForm(t, "/douyin/user/register/", cred).expect(t, 200, 0).decode(t, &reg)
			postForm(t, "/douyin/user/login/", cred).expect(t, 200, 0)
			var info struct {
				User struct {
					Name string `json:"name"`
				} `json:"user"`
			}
			get(t, "/douyin/user/", url.Values{"user_id": {strconv.FormatInt(reg.UserID, 10)}, "token": {reg.Token}}).
				expect(t, 200, 0).decode(t, &info)
			if info.User.Name != name {
				t.Fatalf("stored name %q, sent %q", info.User.Name, name)
			}
		})
	}
}

func TestDuplicateRegistrationIsOneBusinessError(t *testing.T) {
	sameOnEverySet(t)
	a := register(t, "dup")
	r := postQuery(t, "/douyin/user/register/", url.Values{"username": {a.Name}, "password": {"other-password"}}).expect(t, 200, 30001)
	// The reply keeps register's shape, with no usable token in it.
	if r.Body["token"] != "" || r.Body["user_id"] != float64(0) {
		t.Fatalf("a failed registration answered a token or an id: %s", r.Raw)
	}
	// The original password still works; the second one does not.
	postQuery(t, "/douyin/user/login/", url.Values{"username": {a.Name}, "password": {"secret123"}}).expect(t, 200, 0)
	postQuery(t, "/douyin/user/login/", url.Values{"username": {a.Name}, "password": {"other-password"}}).expect(t, 200, 20004)
}

func TestConcurrentRegistrationsOfOneNameHaveOneWinner(t *testing.T) {
	sameOnEverySet(t)
	name := uniqueName("race")
	const n = 16
	replies := inParallel(n, func(i int) reply {
		return postQuery(t, "/douyin/user/register/", url.Values{"username": {name}, "password": {"secret" + strconv.Itoa(100+i)}})
	})
	codes := make([]int, n)
	for i, r := range replies {
		codes[i] = r.code(t)
	}
	wins := 0
	for _, c := range codes {
		switch c {
		case 0:
			wins++
		case 30001:
		default:
			t.Fatalf("unexpected code %d among %v", c, codes)
		}
	}
	if wins != 1 {
		t.Fatalf("%d registrations of %q succeeded, want exactly 1 (codes %v)", wins, name, codes)
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	sameOnEverySet(t)
	a := register(t, "login")
	wrongPassword := postForm(t, "/douyin/user/login/", url.Values{"username": {a.Name}, "password": {"not-it-123"}}).expect(t, 200, 20004)
	unknownUser := postForm(t, "/douyin/user/login/", url.Values{"username": {uniqueName("ghost")}, "password": {"secret123"}}).expect(t, 200, 20004)
	if string(wrongPassword.Raw) != string(unknownUser.Raw) {
		t.Fatalf("wrong password %s and unknown user %s answer differently", wrongPassword.Raw, unknownUser.Raw)
	}
	postForm(t, "/douyin/user/login/", url.Values{"username": {a.Name}}).expect(t, 200, 10001)
}

func TestUserInfoHasEveryFieldAndWorkingImages(t *testing.T) {
	sameOnEverySet(t)
	a := register(t, "info")
	r := get(t, "/douyin/user/", url.Values{"user_id": {strconv.FormatInt(a.ID, 10)}, "token": {a.Token}}).expect(t, 200, 0)
	user, ok := r.Body["user"].(map[string]any)
	if !ok {
		t.Fatalf("no user object: %s", r.Raw)
	}
	for _, f := range userFields {
		if _, ok := user[f]; !ok {
			t.Errorf("user field %q missing: %s", f, r.Raw)
		}
	}
	if len(user) != len(userFields) {
		t.Errorf("user has %d fields, want %d: %s", len(user), len(userFields), r.Raw)
	}
	if user["name"] != a.Name || user["id"].(float64) != float64(a.ID) || user["is_follow"] != false {
		t.Errorf("unexpected user %s", r.Raw)
	}
	for _, f := range []string{"avatar", "background_image"} {
		imageURL := user[f].(string)
		resp, err := http.Get(imageURL)
		if err != nil {
			t.Fatalf("%s %s: %v", f, imageURL, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") || resp.ContentLength < 100 {
			t.Errorf("%s %s: HTTP %d %s %d bytes", f, imageURL, resp.StatusCode, resp.Header.Get("Content-Type"), resp.ContentLength)
		}
	}
}

func TestUserInfoTokenInEveryPlace(t *testing.T) {
	sameOnEverySet(t)
	a := register(t, "tok")
	id := strconv.FormatInt(a.ID, 10)
	get(t, "/douyin/user/", url.Values{"user_id": {id}, "token": {a.Token}}).expect(t, 200, 0)
	get(t, "/douyin/user", url.Values{"user_id": {id}, "token": {a.Token}}).expect(t, 200, 0)
	do(t, http.MethodGet, "/douyin/user/", url.Values{"user_id": {id}}, nil,
		http.Header{"Authorization": {"Bearer " + a.Token}}).expect(t, 200, 0)
}

func TestUserInfoRejectsBadTokens(t *testing.T) {
	sameOnEverySet(t)
	a := register(t, "badtok")
	id := strconv.FormatInt(a.ID, 10)
	get(t, "/douyin/user/", url.Values{"user_id": {id}}).expect(t, 401, 20001)
	get(t, "/douyin/user/", url.Values{"user_id": {id}, "token": {"garbage"}}).expect(t, 401, 20002)
	// Our token with its signature changed.
	tampered := a.Token[:len(a.Token)-4] + "AAAA"
	if tampered == a.Token {
		tampered = a.Token[:len(a.Token)-4] + "BBBB"
	}
	get(t, "/douyin/user/", url.Values{"user_id": {id}, "token": {tampered}}).expect(t, 401, 20002)
	// A token signed with another key.
	foreign, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Issuer: "doutok", Subject: id, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}).SignedString([]byte(strings.Repeat("k", 32)))
	get(t, "/douyin/user/", url.Values{"user_id": {id}, "token": {foreign}}).expect(t, 401, 20002)
	// An unsigned token.
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.RegisteredClaims{
		Issuer: "doutok", Subject: id, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	get(t, "/douyin/user/", url.Values{"user_id": {id}, "token": {none}}).expect(t, 401, 20002)
	// A token signed with the stack's own key that expired a minute ago.
	expired, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Issuer: "doutok", Subject: id, ExpiresAt: jwt.NewNumericDate(time.Now().Add(-time.Minute)),
	}).SignedString(stackSigningKey(t))
	get(t, "/douyin/user/", url.Values{"user_id": {id}, "token": {expired}}).expect(t, 401, 20003)
	do(t, http.MethodGet, "/douyin/user/", url.Values{"user_id": {id}}, nil,
		http.Header{"Authorization": {"Bearer " + expired}}).expect(t, 401, 20003)
}

// stackSigningKey reads the token signing key the stack generated into its local secret store.
func stackSigningKey(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(stackCf.DataDir, "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var secrets map[string]string
	if err := json.Unmarshal(raw, &secrets); err != nil {
		t.Fatal(err)
	}
	return []byte(secrets["token-signing-key"])
}

func TestUserInfoRejectsBadUserIDs(t *testing.T) {
	sameOnEverySet(t)
	a := register(t, "ids")
	// An empty user_id is a missing one: the viewer's own profile (TestUserInfoWithoutUserIDIsTheViewer).
	for _, id := range []string{"abc", "0", "-5", "1.5", "9007199254740992", "99999999999999999999", "1 OR 1=1"} {
		get(t, "/douyin/user/", url.Values{"user_id": {id}, "token": {a.Token}}).expect(t, 200, 10001)
	}
	get(t, "/douyin/user/", url.Values{"user_id": {"9007199254740991"}, "token": {a.Token}}).expect(t, 200, 30002)
}

func TestUnknownRoutesAndMethodsAnswerTheEnvelope(t *testing.T) {
	sameOnEverySet(t)
	get(t, "/douyin/nothing-here/", nil).expect(t, 404, 40001)
	get(t, "/douyin/user/register/", nil).expect(t, 405, 40002)
	get(t, "/healthz", nil).expect(t, 200, 0)
}

func TestDomainServicesRefuseCallersOtherThanTheirSidecar(t *testing.T) {
	sameOnEverySet(t)
	userPort := stackCf.PortsOf(0).App
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:"+strconv.Itoa(userPort)+"/accounts/login",
		strings.NewReader(`{"username":"x","password":"yyyyyy"}`))
	r := send(t, req)
	r.expect(t, 403, 40004)
	req, _ = http.NewRequest(http.MethodPost, "http://127.0.0.1:"+strconv.Itoa(userPort)+"/accounts/login",
		strings.NewReader(`{"username":"x","password":"yyyyyy"}`))
	req.Header.Set("dapr-api-token", "guess")
	send(t, req).expect(t, 403, 40004)
}

func TestOversizedFormIsRejected(t *testing.T) {
	sameOnEverySet(t)
	big := url.Values{"username": {strings.Repeat("a", 2<<20)}, "password": {"secret123"}}
	postForm(t, "/douyin/user/register/", big).expect(t, 413, 40003)
}
