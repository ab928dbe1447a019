// Package ids gathers the ids of a batch call.
package ids

// Distinct returns the id of each item, each id once, in the order first seen: the ids of one
// batch call for a page where an author or commenter appears several times.
func Distinct[S any](items []S, id func(S) int64) []int64 {
	seen := make(map[int64]bool, len(items))
	var out []int64
	for _, item := range items {
		if v := id(item); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
