package pgdb

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestIsDataErrorKnowsTheDataFromTheDatabase(t *testing.T) {
	for code, want := range map[string]bool{
		"22021": true,  // character_not_in_repertoire: a NUL in text
		"22P02": true,  // invalid_text_representation
		"23505": true,  // unique_violation
		"08006": false, // connection_failure
		"57P01": false, // admin_shutdown
		"40001": false, // serialization_failure
	} {
		err := fmt.Errorf("save: %w", &pgconn.PgError{Code: code})
		if IsDataError(err) != want {
			t.Errorf("IsDataError(%s) = %v, want %v", code, !want, want)
		}
	}
	if IsDataError(errors.New("connection refused")) {
		t.Error("an error that is not PostgreSQL's is not a data error")
	}
}
