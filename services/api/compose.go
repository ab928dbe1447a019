package main

import (
	"context"
	"strings"

	"github.com/doutok/doutok/services/internal/userapi"
)

// composer builds the mobile objects from the domain services' batch APIs. Every method costs a
// fixed number of service invocations whatever the number of objects; the count is written
// beside each method.
type composer struct {
	accounts      *userapi.Client
	publicBaseURL string
}

// users returns the User objects for ids as seen by viewer; unknown ids are absent.
// Invocations: 1 (user profiles).
func (c *composer) users(ctx context.Context, viewer int64, ids []int64) (map[int64]User, error) {
	profiles, err := c.accounts.Profiles(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]User, len(profiles))
	for id, p := range profiles {
		out[id] = User{
			ID:              p.ID,
			Name:            p.Name,
			Signature:       p.Signature,
			Avatar:          c.url(p.Avatar, defaultAvatarPath),
			BackgroundImage: c.url(p.BackgroundImage, defaultBackgroundPath),
		}
	}
	return out, nil
}

// url makes an absolute URL of a stored object path, or of the default when it is empty.
// Paths that are already absolute (a CDN in front of object storage) pass through.
func (c *composer) url(path, def string) string {
	switch {
	case path == "":
		return c.publicBaseURL + def
	case strings.HasPrefix(path, "http://"), strings.HasPrefix(path, "https://"):
		return path
	default:
		return c.publicBaseURL + "/" + strings.TrimPrefix(path, "/")
	}
}
