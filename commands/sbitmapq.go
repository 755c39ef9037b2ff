package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"gocrash/kernel"
)

// sbitmapq: crash's sbitmap.c cmd_sbitmapq — a struct sbitmap_queue (the
// blk-mq tags' allocator, and others): its depth, busy and cleared bits,
// word size, per-cpu allocation hints, wake batch and index, wait queues,
// and the allocated bits as bytes; with -s and -a, the allocated entries
// of the array the bits index instead.

func init() {
	register(Command{
		Name:     "sbitmapq",
		Summary:  "sbitmap_queue struct contents",
		Synopsis: "[-s struct[.member[,member]] -a address [-p] [-v]] -[x|d] address",
		Description: `  This command dumps the struct sbitmap_queue at the address: its depth,
  the bits allocated (busy) and freed but not yet cleared, the bits per
  word and the number of words, each possible cpu's allocation hint, the
  wake batch and index, the active wait-queue count, each of the eight
  wait queues (its wait_cnt, and whether anyone waits), round_robin and
  min_shallow_depth, then the allocated bits as bytes (word & ~cleared,
  bit 0 first).  With -s and -a it shows instead the entries of the array
  the bitmap indexes that are allocated: each bit's index and its entry's
  address, or with -v the entry as a structure.

  On kernels whose struct sbq_wait_state has no wait_cnt (6.2 and later,
  and 6.1's stable updates) crash 8.0.6 stops at the wait queues with
  "invalid structure member offset: sbq_wait_state_wait_cnt": gocrash
  prints what crash prints, the lines before and that error.`,
		Flags: []Flag{
			{Name: "s", Arg: "struct", Help: "the array's element type, \"struct.member[,member]\" to show those members; needs -a."},
			{Name: "a", Arg: "address", Help: "the address of the array the set bits index."},
			{Name: "p", Help: "the array holds pointers to the structures (the entry's address is then its slot's)."},
			{Name: "v", Help: "show each allocated entry's structure (with -s)."},
			{Name: "x", Help: "the structures in hexadecimal."},
			{Name: "d", Help: "the structures in decimal."},
		},
		Examples: `  The first disk's blk-mq tags: its gendisk from dev -d, the
  sbitmap_queue embedded in its hardware queue 0's tags, and that queue
  (the sample's 6.1 kernel has no sbq_wait_state.wait_cnt: crash 8.0.6
  stops at the wait queues):

    crash> dev -d
    MAJOR GENDISK            NAME       REQUEST_QUEUE      TOTAL  READ WRITE
      254 ff42bab501861000   vda        ff42bab50184c000       0     0     0
    ...
    crash> p &((struct gendisk *)0xff42bab501861000)->queue->tag_set->tags[0]->bitmap_tags
    $1 = (struct sbitmap_queue *) 0xff42bab50094c6d0
    crash> sbitmapq ff42bab50094c6d0
    depth = 256
    busy = 0
    cleared = 60
    bits_per_word = 64
    map_nr = 4
    alloc_hint = {250, 124}
    wake_batch = 8
    wake_index = 0
    ws_active = 0
    sbitmapq: invalid structure member offset: sbq_wait_state_wait_cnt
              FILE: sbitmap.c  LINE: 342  FUNCTION: sbitmap_queue_show()

  The requests of the allocated tags (none: the disk was idle), from the
  tag set's static_rqs, an array of pointers:

    crash> p ((struct gendisk *)0xff42bab501861000)->queue->tag_set->tags[0]->static_rqs
    $2 = (struct request **) 0xff42bab5008bd800
    crash> sbitmapq -s request.tag,cmd_flags -a ff42bab5008bd800 -p ff42bab50094c6d0 | wc -l
    0`,
		Run: runSbitmapq,
	})
}

// crash 8.0.6's sbitmap.c source lines of the lookups that fail where a
// member is missing, for its "FILE: ... LINE: ... FUNCTION: ..." line.
var sbitmapLines = map[string]string{
	"sbq_wait_state_wait_cnt": "342",
	"sbq_wait_state_wait":     "343",
	"wait_queue_head_head":    "345",
}

func runSbitmapq(s *Session, args []string, w io.Writer) error {
	g := parseFlagsPermuted("sbitmapq", args)
	var dataName string
	var dataAddr uint64
	var hasName, hasAddr, points, verbose bool
	radix := 0
	for g.next() {
		switch g.flag {
		case "s":
			if hasName {
				return fmt.Errorf("-s option (%s) already entered", dataName)
			}
			dataName, hasName = g.val, true
		case "a":
			if hasAddr {
				return fmt.Errorf("-a option (0x%x) already entered", dataAddr)
			}
			if !isNumberWord(g.val) {
				return fmt.Errorf("invalid -a option: %s", g.val)
			}
			v, err := parseHex(g.val)
			if err != nil {
				return err
			}
			if !s.isKVAddr(v) {
				return fmt.Errorf("invalid kernel virtual address: %s", g.val)
			}
			dataAddr, hasAddr = v, true
		case "p":
			points = true
		case "v":
			verbose = true
		case "x":
			if radix == 10 {
				return errors.New("-d and -x are mutually exclusive")
			}
			radix = 16
		case "d":
			if radix == 16 {
				return errors.New("-d and -x are mutually exclusive")
			}
			radix = 10
		}
	}
	if g.err != nil {
		return g.err
	}
	rest := g.rest()
	switch {
	case len(rest) == 0:
		return &UsageError{Cmd: "sbitmapq", Reason: "command argument is required"}
	case len(rest) > 1:
		return &UsageError{Cmd: "sbitmapq", Reason: "too many arguments"}
	case !isNumberWord(rest[0]):
		return fmt.Errorf("invalid command argument: %s", rest[0])
	}
	addr, err := parseHex(rest[0])
	if err != nil {
		return err
	}
	if !s.isKVAddr(addr) {
		return fmt.Errorf("invalid kernel virtual address: %s", rest[0])
	}
	switch {
	case hasName && !hasAddr:
		return &UsageError{Cmd: "sbitmapq", Reason: "-s option requires -a option"}
	case hasAddr && !hasName:
		return &UsageError{Cmd: "sbitmapq", Reason: "-a option is used with -s option only"}
	case points && !hasAddr:
		return &UsageError{Cmd: "sbitmapq", Reason: "-p option requires -a option"}
	}
	var size int64
	if hasName {
		t, err := s.Kernel.Layouts()
		if err != nil {
			return err
		}
		typ, _, _ := strings.Cut(dataName, ".")
		if size, err = t.SizeOf(typ); err != nil || size <= 0 {
			return fmt.Errorf("invalid data structure reference: %s", dataName)
		}
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	q, err := s.Kernel.SbitmapQueueAt(addr)
	if err != nil {
		return s.sbitmapReport(bw, sbitmapError(err))
	}
	if hasName {
		step := uint64(size)
		if points {
			step = 8
		}
		for _, idx := range q.SetBits() {
			a := dataAddr + step*uint64(idx)
			if !verbose {
				fmt.Fprintf(bw, "%d: 0x%08x\n", idx, a)
				continue
			}
			fmt.Fprintf(bw, "%d (0x%08x):\n", idx, a)
			if points {
				p, err := s.Kernel.ReadU64(a)
				if err != nil {
					fmt.Fprintf(bw, "sbitmapq: Failed to read the point of data: 0x%08x\n", a)
					break
				}
				a = p
			}
			if err := sbitmapDumpStruct(s, bw, dataName, a, radix); err != nil {
				return err
			}
		}
		if len(q.Words) < int(q.MapNr) {
			return s.sbitmapReport(bw, sbitmapError(q.WordsErr))
		}
		return nil
	}
	return s.sbitmapReport(bw, writeSbitmapQueue(bw, q))
}

// sbitmapReport prints crash's lines for the error into the output, as
// crash's error() writes them: a missing member's two lines and the blank
// line after them; a failed read's readmem() line, then sbitmap.c's
// "cannot read ..." (or, for alloc_hint, read with FAULT_ON_ERROR, the
// readmem() line alone).
func (s *Session) sbitmapReport(bw *bufio.Writer, err error) error {
	var oe *crashOffsetError
	if errors.As(err, &oe) {
		fmt.Fprintf(bw, "sbitmapq: %s\n          FILE: sbitmap.c  LINE: %s  FUNCTION: sbitmap_queue_show()\n\n", oe.msg, oe.line)
		return &printedError{err: err}
	}
	var re *kernel.SbitmapReadError
	if errors.As(err, &re) {
		fmt.Fprintf(bw, "sbitmapq: %s\n", classifyReadError(re.Err, kvaddr, re.Addr, re.What, s.dumpFormat()))
		if re.What != "alloc_hint" {
			fmt.Fprintf(bw, "sbitmapq: %s\n", re)
		}
		return &printedError{err: err}
	}
	return err
}

// crashOffsetError is crash's error for a structure member (or size) it
// needs and the kernel does not have: its message and the line of crash's
// sbitmap.c that asked.
type crashOffsetError struct{ msg, line string }

func (e *crashOffsetError) Error() string { return e.msg }

// writeSbitmapQueue prints the queue as crash's sbitmap_queue_show and
// sbitmap_bitmap_show do, up to the first part that could not be read.
func writeSbitmapQueue(bw *bufio.Writer, q *kernel.SbitmapQueue) error {
	fmt.Fprintf(bw, "depth = %d\n", q.Depth)
	if q.WordsErr != nil {
		return sbitmapError(q.WordsErr)
	}
	fmt.Fprintf(bw, "busy = %d\n", uint32(q.Weight(false)-q.Weight(true)))
	if q.HasCleared {
		fmt.Fprintf(bw, "cleared = %d\n", q.Weight(true))
	}
	fmt.Fprintf(bw, "bits_per_word = %d\n", uint32(1)<<q.Shift)
	fmt.Fprintf(bw, "map_nr = %d\n", q.MapNr)
	bw.WriteString("alloc_hint = {")
	for i, h := range q.AllocHint {
		if i > 0 {
			bw.WriteString(", ")
		}
		fmt.Fprintf(bw, "%d", h)
	}
	if q.AllocHintErr != nil {
		bw.WriteString("\n")
		return sbitmapError(q.AllocHintErr)
	}
	bw.WriteString("}\n")
	fmt.Fprintf(bw, "wake_batch = %d\n", q.WakeBatch)
	fmt.Fprintf(bw, "wake_index = %d\n", q.WakeIndex)
	if q.HasWsActive {
		fmt.Fprintf(bw, "ws_active = %d\n", q.WsActive)
	}
	if q.WsErr != nil {
		if errors.As(q.WsErr, new(*kernel.SbitmapReadError)) {
			bw.WriteString("ws = {\n")
			for _, ws := range q.Ws {
				fmt.Fprintf(bw, "\t{ .wait_cnt = %d, .wait = %s },\n", uint64(int64(ws.WaitCnt)), sbqWaitWord(ws.Active))
			}
		}
		return sbitmapError(q.WsErr)
	}
	bw.WriteString("ws = {\n")
	for _, ws := range q.Ws {
		// crash prints the int through an unsigned long: -1 is 2^64-1.
		fmt.Fprintf(bw, "\t{ .wait_cnt = %d, .wait = %s },\n", uint64(int64(ws.WaitCnt)), sbqWaitWord(ws.Active))
	}
	bw.WriteString("}\n")
	if q.HasRoundRobin {
		rr := 0
		if q.RoundRobin {
			rr = 1
		}
		fmt.Fprintf(bw, "round_robin = %d\n", rr)
	}
	if q.HasMinShallowDepth {
		fmt.Fprintf(bw, "min_shallow_depth = %d\n", q.MinShallowDepth)
	}
	bw.WriteString("\n")
	b := q.Bitmap()
	for i, c := range b {
		if i&0xf == 0 {
			if i != 0 {
				bw.WriteString("\n")
			}
			fmt.Fprintf(bw, "%08x:", i)
		}
		if i&1 == 0 {
			bw.WriteString(" ")
		}
		fmt.Fprintf(bw, "%02x", c)
	}
	if len(b) > 0 {
		bw.WriteString("\n")
	}
	return nil
}

func sbqWaitWord(active bool) string {
	if active {
		return "active"
	}
	return "inactive"
}

// sbitmapDumpStruct shows the structure at addr as crash's dump_struct
// (name) or, for "struct.member[,member]", dump_struct_member for each
// member: the struct command's output for it.
func sbitmapDumpStruct(s *Session, w *bufio.Writer, name string, addr uint64, radix int) error {
	var flags []string
	switch radix {
	case 16:
		flags = []string{"-x"}
	case 10:
		flags = []string{"-d"}
	}
	at := fmt.Sprintf("%x", addr)
	typ, members, ok := strings.Cut(name, ".")
	if !ok {
		w.Flush()
		return runDatatype(s, "struct", append([]string{typ, at}, flags...), w)
	}
	for _, m := range strings.FieldsFunc(members, func(r rune) bool { return r == ',' || r == ' ' }) {
		w.Flush()
		if err := runDatatype(s, "struct", append([]string{typ + "." + m, at}, flags...), w); err != nil {
			return err
		}
	}
	return nil
}

// sbitmapError is the walker's error as crash's sbitmap.c words it.
func sbitmapError(err error) error {
	var mm *kernel.MissingMemberError
	if errors.As(err, &mm) {
		name := mm.Struct + "_" + mm.Member
		if mm.Member == "" {
			return &crashOffsetError{"invalid structure size: " + mm.Struct, "341"}
		}
		if line, ok := sbitmapLines[name]; ok {
			return &crashOffsetError{"invalid structure member offset: " + name, line}
		}
		return fmt.Errorf("invalid structure member offset: %s", name)
	}
	return err
}

// isKVAddr is crash's IS_KVADDR on x86_64: the direct map and above, or
// the kernel's half of the address space.
func (s *Session) isKVAddr(v uint64) bool {
	return v >= s.PageOffset() || v >= s.kernelStart()
}
