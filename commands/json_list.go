package commands

import "strings"

// listJSON is list's JSON: the entries' addresses, as list prints them
// without -s or -S (a structure's members have no JSON form yet).
func listJSON(s *Session, args []string) (any, error) {
	var out strings.Builder
	js := []Addr{}
	if err := listInto(s, args, &out, &js); err != nil {
		return nil, err
	}
	return js, nil
}

// treeJSON is tree's JSON: the entries' addresses, as tree prints them
// without -s, -S or -p.
func treeJSON(s *Session, args []string) (any, error) {
	var out strings.Builder
	js := []Addr{}
	if err := treeInto(s, args, &out, &js); err != nil {
		return nil, err
	}
	return js, nil
}
