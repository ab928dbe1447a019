package userapi

import (
	"context"
	"testing"

	"github.com/doutok/doutok/services/internal/apperr"
)

// Invalid UTF-8 never leaves the gateway: JSON would turn "\xff\xff\xff\xff\xff\xff" and
// "\xfe\xfe\xfe\xfe\xfe\xfe" into the same password. (The client has no sidecar: reaching the
// service would panic.)
func TestInvalidUTF8CredentialsAreRefusedBeforeTheService(t *testing.T) {
	c := &Client{}
	ctx := context.Background()
	for _, tc := range []struct {
		call func(context.Context, Credentials) (int64, error)
		cred Credentials
		want apperr.Code
	}{
		{c.Register, Credentials{Username: "a\xffb", Password: "secret123"}, apperr.InvalidUsername},
		{c.Register, Credentials{Username: "alice", Password: "\xff\xff\xff\xff\xff\xff"}, apperr.InvalidPassword},
		{c.Login, Credentials{Username: "a\xc0\x80", Password: "secret123"}, apperr.LoginFailed},
		{c.Login, Credentials{Username: "alice", Password: "secret\xed\xa0\x80"}, apperr.LoginFailed},
	} {
		if _, err := tc.call(ctx, tc.cred); !apperr.Is(err, tc.want) {
			t.Errorf("%q / %q: %v, want %d", tc.cred.Username, tc.cred.Password, err, tc.want)
		}
	}
}
