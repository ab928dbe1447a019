package apperr

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestREADMEDocumentsTheCatalogue keeps the README's error table equal to the code.
func TestREADMEDocumentsTheCatalogue(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range Sorted() {
		row := fmt.Sprintf("| %d | %d | %s |", e.Code, e.HTTPStatus, e.Message)
		if !strings.Contains(string(readme), row) {
			t.Errorf("README lacks the row %q", row)
		}
	}
}

func TestEveryCodeIsInTheCatalogueOnce(t *testing.T) {
	messages := map[string]Code{}
	for code, e := range Catalogue {
		if e.Code != code {
			t.Errorf("entry %d says code %d", code, e.Code)
		}
		if other, dup := messages[e.Message]; dup {
			t.Errorf("codes %d and %d share the message %q", code, other, e.Message)
		}
		messages[e.Message] = code
	}
}
