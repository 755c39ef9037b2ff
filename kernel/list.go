package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"gocrash/symbols"
	"gocrash/vmcore"
)

// MaxListEntries bounds every list walk: pid_max is at most 4M
// (PID_MAX_LIMIT), and no kernel list a command walks is longer.
const MaxListEntries = 1 << 22

// KernelSpaceStart is the lowest x86_64 kernel address with 5-level
// paging (the canonical upper half of 57-bit addresses; with 4 levels it
// starts higher, at 0xffff800000000000); a list pointer below it is
// garbage.
const KernelSpaceStart = 0xff00000000000000

// ReadPointer reads the 8-byte little-endian pointer at addr.
func ReadPointer(mem symbols.Memory, addr uint64) (uint64, error) {
	var b [8]byte
	if err := mem.ReadVirt(b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// WalkList calls fn with each entry of the circular list_head list whose
// head is at head, as the address of the list_head inside the entry (the
// head itself excluded: list_for_each). A corrupt list ends the walk with
// an error naming the list (what), the entry and its next pointer instead
// of looping: the walk detects a cycle (Brent's algorithm, no memory per
// entry), checks each next pointer is an aligned kernel address, and stops
// after MaxListEntries. It also stops when ctx is done, returning
// ctx.Err(), and when fn returns an error, returning it.
func WalkList(ctx context.Context, mem symbols.Memory, head uint64, what string, fn func(node uint64) error) error {
	node, err := ReadPointer(mem, head)
	if err != nil {
		return fmt.Errorf("%s: list head at %#x: %w", what, head, err)
	}
	// where names the entry whose next pointer is wrong.
	where := func(n int, prev uint64) string {
		if n == 0 {
			return "the head's next pointer"
		}
		return fmt.Sprintf("entry %d at %#x has next pointer", n-1, prev)
	}
	// Brent: the tortoise jumps to the hare at powers of two; meeting it
	// again means the list loops without passing its head.
	tortoise, power, lam := head, 1, 0
	prev := head
	for n := 0; node != head; n++ {
		if n >= MaxListEntries {
			return fmt.Errorf("%s: list at %#x does not return to its head after %d entries", what, head, n)
		}
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if node < KernelSpaceStart || node%8 != 0 {
			return fmt.Errorf("%s: corrupt list at %#x: %s %#x, not a kernel address", what, head, where(n, prev), node)
		}
		if node == tortoise {
			return fmt.Errorf("%s: corrupt list at %#x: %s %#x, which loops without returning to the head", what, head, where(n, prev), node)
		}
		if lam++; lam == power {
			tortoise, power, lam = node, power*2, 0
		}
		// The entry's own next pointer is read first: an unreadable
		// entry is named as such before fn reads anything else of it.
		next, err := ReadPointer(mem, node)
		if err != nil {
			// A page the dump lacks (cut short, filtered) is the
			// dump's damage, not the list's.
			if errors.Is(err, vmcore.ErrTruncated) || errors.Is(err, vmcore.ErrExcluded) {
				return fmt.Errorf("%s: list at %#x: entry %d at %#x is not in the dump: %w", what, head, n, node, err)
			}
			return fmt.Errorf("%s: corrupt list at %#x: entry %d at %#x cannot be read: %w", what, head, n, node, err)
		}
		if err := fn(node); err != nil {
			return err
		}
		prev, node = node, next
	}
	return nil
}

// WalkList is WalkList over the kernel's memory.
func (k *Kernel) WalkList(ctx context.Context, head uint64, what string, fn func(node uint64) error) error {
	return WalkList(ctx, k.memory(), head, what, fn)
}
