package kernel

import (
	"context"
	"fmt"

	"gocrash/symbols"
)

// FollowSpec is a linked list as crash's list command sees it (tools.c
// do_list): each link holds, at NextOffset, the address of the next link;
// the walk starts at Start and ends on a NULL next pointer (unless
// NullIsError, for list_head lists), on End, on returning to Start or to
// the first link after it, or on a link that points to itself.
type FollowSpec struct {
	Start       uint64
	NextOffset  uint64
	End         uint64 // an explicit end; 0 for none
	NullIsError bool
}

// DuplicateEntryError is a link met a second time: the list loops without
// passing any of its ends (crash: "duplicate list entry").
type DuplicateEntryError struct{ Addr uint64 }

func (e *DuplicateEntryError) Error() string { return fmt.Sprintf("duplicate list entry: %x", e.Addr) }

// ListReadError is a link whose next pointer could not be read.
type ListReadError struct {
	Addr  uint64 // the address read
	First bool   // the read of the start's next pointer ("first list entry")
	Err   error
}

func (e *ListReadError) Error() string {
	return fmt.Sprintf("list entry at %#x: %v", e.Addr, e.Err)
}
func (e *ListReadError) Unwrap() error { return e.Err }

// InvalidEntryError is a NULL next pointer in a list that must not hold
// one (crash: "invalid list entry: 0").
type InvalidEntryError struct{ Addr uint64 }

func (e *InvalidEntryError) Error() string { return fmt.Sprintf("invalid list entry: %x", e.Addr) }

// FollowList calls fn with each link of the list, Start first. fn is
// called before the link is checked against those seen, so a loop shows
// its first repeated link and then ends with a *DuplicateEntryError, as
// crash's list does. The walk also ends after MaxListEntries links, when
// ctx is done, and when fn returns an error.
func FollowList(ctx context.Context, mem symbols.Memory, spec FollowSpec, fn func(link uint64) error) error {
	next := spec.Start
	first, err := ReadPointer(mem, next+spec.NextOffset)
	if err != nil {
		return &ListReadError{Addr: next + spec.NextOffset, First: true, Err: err}
	}
	seen := make(map[uint64]struct{})
	for count := 1; ; count++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(next); err != nil {
			return err
		}
		if next != 0 {
			if _, dup := seen[next]; dup {
				return &DuplicateEntryError{Addr: next}
			}
			if len(seen) >= MaxListEntries {
				return fmt.Errorf("list at %#x: more than %d entries", spec.Start, MaxListEntries)
			}
			seen[next] = struct{}{}
		}
		last := next
		if next, err = ReadPointer(mem, next+spec.NextOffset); err != nil {
			return &ListReadError{Addr: last + spec.NextOffset, Err: err}
		}
		switch {
		case next == 0:
			if spec.NullIsError {
				return &InvalidEntryError{Addr: 0}
			}
			return nil
		case next == spec.End, next == spec.Start, next == last, next == first && count != 1:
			return nil
		}
	}
}
