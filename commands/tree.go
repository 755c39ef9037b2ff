package commands

// tree: crash's tools.c cmd_tree (red-black trees, XArrays) and
// maple_tree.c (maple trees), over kernel.WalkRBTree, WalkXArray and
// WalkMaple.

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"gocrash/kernel"
	"gocrash/symbols"
)

func init() {
	register(Command{
		Name:     "tree",
		Summary:  "display radix tree, XArray, red-black tree or maple tree",
		Synopsis: "[-t [radix|xarray|rbtree|maple]] [-r offset] [-[s|S] struct[.member[,member]]]\n       -[x|d] [-o offset] [-l] [-p] [-v] [-N] start",
		Description: `  This command dumps the entries of a red-black tree, an XArray (the radix
  tree of kernels since 4.20) or a maple tree: the address of each entry,
  one a line.  Red-black trees are walked node, left subtree, right
  subtree (with -l, in order); XArrays and maple trees in index order.
  A node met twice ends the walk ("duplicate tree entry").`,
		Flags: []Flag{
			{Name: "t", Arg: "type", Help: `the type of tree: "rbtree" (the default), "radix", "xarray" or "maple"; "ra", "rb", "x" and "m" are accepted.`},
			{Name: "r", Arg: "offset", Help: `when start is a structure containing the rb_root, xarray or maple_tree: the offset of that member, a number of bytes or "struct.member".`},
			{Name: "o", Arg: "offset", Help: `red-black trees only: the offset of the rb_node in its structure, a number of bytes or "struct.member".`},
			{Name: "s", Arg: "struct[.member[,member]]", Help: "format and print each entry as this structure, or these members of it, as gdb shows them."},
			{Name: "S", Arg: "struct[.member[,member]]", Help: "like -s, but members of 1, 2, 4 or 8 bytes are read directly and printed as numbers (pointers in hexadecimal), char arrays and char pointers as strings."},
			{Name: "l", Help: "red-black trees only: in linear order, leftmost node first."},
			{Name: "p", Help: `show each entry's position: for red-black trees the path from the root ("root/l/r"), for XArrays and maple trees the index and the slots taken.`},
			{Name: "x", Help: "print member values in hexadecimal."},
			{Name: "d", Help: "print member values in decimal."},
			{Name: "v", Help: "maple trees only: dump the contents of each node (not available yet)."},
			{Name: "N", Help: "start is the address of a node (rb_node, xa_node or maple node entry), not of the root."},
		},
		Operands: []Operand{{"start", "the address of the root (or with -r of the structure holding it, with -N of a node): a symbol, an address or an expression."}},
		Examples: `  The vmap_area structures of the kernel's vmalloc areas, in the
  red-black tree vmap_area_root, with where each sits:

    crash> tree -t rbtree -o vmap_area.rb_node -p vmap_area_root
    ff42bab500137740
      position: root
    ff42bab500137340
      position: root/l
    ...

  The VMAs of init, from its mm_struct's maple tree, with their bounds:

    crash> tree -t maple -r mm_struct.mm_mt ff42bab5018b4000 -S vm_area_struct.vm_start,vm_end
    ff42bab501916088
      vm_start = 4194304
      vm_end = 4198400
    ...`,
		Run: runTree,
	})
}

type treeArgs struct {
	kind                       string // "rbtree", "xarray", "radix", "maple"
	rootOff, nodeOff           int64
	rootOffSet, nodeOffSet     bool
	structs                    []string
	radix                      int
	linear, pos, node, verbose bool
	start                      uint64
}

// runTree is tree.
func runTree(s *Session, args []string, w io.Writer) error {
	return treeInto(s, args, w, nil)
}

// treeInto is tree, also collecting each entry's address into js when
// it is not nil (tree's JSON: the addresses only).
func treeInto(s *Session, args []string, w io.Writer, js *[]Addr) error {
	t, err := s.Types()
	if err != nil {
		return err
	}
	ta := treeArgs{}
	typeNames := map[string]string{"rbtree": "rbtrees", "xarray": "Xarrays", "radix": "radix trees", "maple": "maple trees"}
	parseOff := func(opt, v string) (int64, error) {
		if isNumberWord(v) {
			n, err := ParseNumber(v)
			return int64(n), err
		}
		if off, err := t.Offset(v); err == nil {
			return off, nil
		}
		return 0, fmt.Errorf("invalid %s argument: %s", opt, v)
	}
	var sFlag, bigS bool
	g := parseFlagsPermuted("tree", args)
	for g.next() {
		switch g.flag {
		case "t":
			if ta.kind != "" {
				fmt.Fprintf(w, "tree: multiple tree types may not be entered\n")
				return &UsageError{Cmd: "tree"}
			}
			switch v := g.val; {
			case strings.HasPrefix(v, "ra"):
				ta.kind = "radix"
				if t.HasMember("radix_tree_root", "xa_head") {
					ta.kind = "xarray"
				}
			case strings.HasPrefix(v, "rb"):
				ta.kind = "rbtree"
			case strings.HasPrefix(v, "x"):
				ta.kind = "xarray"
			case strings.HasPrefix(v, "m"):
				ta.kind = "maple"
			default:
				fmt.Fprintf(w, "tree: invalid tree type: %s\n", v)
				return &UsageError{Cmd: "tree"}
			}
		case "l":
			ta.linear = true
		case "r":
			if ta.rootOffSet {
				return fmt.Errorf("root offset value %d (0x%x) already entered", ta.rootOff, ta.rootOff)
			}
			if ta.rootOff, err = parseOff("-r", g.val); err != nil {
				return err
			}
			ta.rootOffSet = true
		case "o":
			if ta.nodeOffSet {
				return fmt.Errorf("node offset value %d (0x%x) already entered", ta.nodeOff, ta.nodeOff)
			}
			if ta.nodeOff, err = parseOff("-o", g.val); err != nil {
				return err
			}
			ta.nodeOffSet = true
		case "s", "S":
			ta.structs = append(ta.structs, g.val)
			if g.flag == "s" {
				sFlag = true
			} else {
				bigS = true
			}
			if sFlag && bigS {
				return errors.New("-S and -s options are mutually exclusive")
			}
		case "p":
			ta.pos = true
		case "N":
			ta.node = true
		case "x", "d":
			if ta.radix != 0 {
				return errors.New("-d and -x are mutually exclusive")
			}
			ta.radix = 16
			if g.flag == "d" {
				ta.radix = 10
			}
		case "v":
			ta.verbose = true
		}
	}
	if g.err != nil {
		return g.err
	}
	name := typeNames[ta.kind]
	if ta.kind != "" && ta.kind != "rbtree" {
		switch {
		case ta.linear:
			return fmt.Errorf("-l option is not applicable to %s", name)
		case ta.nodeOffSet:
			return fmt.Errorf("-o option is not applicable to %s", name)
		}
	}
	if ta.verbose && ta.kind != "" && ta.kind != "maple" {
		return fmt.Errorf("-v option is not applicable to %s", name)
	}
	if ta.rootOffSet && ta.node {
		return errors.New("-r and -N options are mutually exclusive")
	}
	rest := g.rest()
	if len(rest) == 0 {
		fmt.Fprintf(w, "tree: a starting address is required\n")
		return &UsageError{Cmd: "tree"}
	}
	a := rest[0]
	switch v, ok := s.Vmlinux.Lookup(a); {
	case ok:
		ta.start = v
	case !isNumberWord(a):
		v, err := EvalAddress(a, s.lookupFunc())
		if err != nil || !strings.ContainsAny(a, "()+-*/&|^%<>") || v < s.PageOffset() {
			return fmt.Errorf("invalid start argument: %s", a)
		}
		ta.start = v
	default:
		v, err := parseHex(a)
		if err != nil || isDecWord(a) && !isHexOnly(a) || v < s.PageOffset() {
			return fmt.Errorf("invalid start argument: %s", a)
		}
		ta.start = v
	}
	if len(rest) > 1 {
		fmt.Fprintf(w, "tree: too many arguments entered\n")
		return &UsageError{Cmd: "tree"}
	}
	if ta.verbose {
		return errors.New("-v: the maple node dump is not produced yet")
	}
	if js != nil && (len(ta.structs) > 0 || ta.pos) {
		return jsonOptionsErr("tree", args)
	}
	readers, err := newEntryWriters(s, t, ta.structs, !sFlag)
	if err != nil {
		return err
	}
	if !ta.node {
		ta.start += uint64(ta.rootOff)
	}
	var b strings.Builder
	flush := func() {
		io.WriteString(w, b.String())
		b.Reset()
	}
	defer flush()
	st := s.symTable()
	entry := func(addr uint64) {
		if js != nil {
			*js = append(*js, Addr(addr))
		}
		for _, r := range readers {
			if err := r.write(s, st, &b, addr, ta.radix); err != nil {
				// one line for the entry, and the walk goes on
				fmt.Fprintf(&b, "tree: %v\n", err)
				break
			}
		}
		if b.Len() > 1<<16 {
			flush()
		}
	}
	switch ta.kind {
	case "radix":
		return errors.New("radix trees do not exist or have changed their format")
	case "xarray":
		return ta.xarray(s, t, &b, flush, entry)
	case "maple":
		return ta.maple(s, t, &b, flush, entry)
	}
	return ta.rbtree(s, t, &b, flush, entry)
}

// isHexOnly is crash's hexadecimal_only: hex digits with at least one of
// a-f, so that it cannot be read as decimal.
func isHexOnly(s string) bool {
	return isHexWord(s) && strings.ContainsAny(strings.ToLower(strings.TrimPrefix(s, "0x")), "abcdefx")
}

func (ta *treeArgs) rbtree(s *Session, t *symbols.Types, b *strings.Builder, flush func(), entry func(uint64)) error {
	root := ta.start
	if !ta.node {
		off, err := t.Offset("rb_root.rb_node")
		if err != nil {
			return errors.New("red-black trees do not exist or have changed their format")
		}
		p, err := kernel.ReadPointer(s.Mem, ta.start+uint64(off))
		if err != nil {
			return classifyReadError(err, kvaddr, ta.start+uint64(off), "rb_root rb_node", s.dumpFormat())
		}
		root = p
	}
	err := kernel.WalkRBTree(s.Ctx(), s.Mem, root, kernel.RBWalk{
		Linear: ta.linear,
		Visit: func(node uint64, path []byte) error {
			fmt.Fprintf(b, "%x\n", node-uint64(ta.nodeOff))
			if ta.pos {
				b.WriteString("  position: root")
				for _, c := range path {
					b.WriteString("/" + string(c))
				}
				b.WriteByte('\n')
			}
			entry(node - uint64(ta.nodeOff))
			return nil
		},
		Corrupt: func(node, child uint64, right bool) {
			side := "rb_left"
			if right {
				side = "rb_right"
			}
			fmt.Fprintf(b, "tree: rb_node: %x: corrupted %s pointer: %x\n", node, side, child)
		},
	})
	var dup *kernel.DuplicateTreeEntryError
	if errors.As(err, &dup) {
		b.WriteString("\n")
		flush()
	}
	return err
}

func (ta *treeArgs) xarray(s *Session, t *symbols.Types, b *strings.Builder, flush func(), entry func(uint64)) error {
	l, err := s.XALayout()
	if err != nil {
		return errors.New("xarray facility does not exist or has changed its format")
	}
	head := ta.start
	if !ta.node {
		off, err := t.Offset("xarray.xa_head")
		if err != nil {
			return errors.New("xarray facility does not exist or has changed its format")
		}
		p, err := kernel.ReadPointer(s.Mem, ta.start+uint64(off))
		if err != nil {
			return classifyReadError(err, kvaddr, ta.start+uint64(off), "xarray xa_head", s.dumpFormat())
		}
		head = p
	}
	mask := uint64(1)<<l.ChunkShift - 1
	err = kernel.WalkXArray(s.Ctx(), s.Mem, l, head, ta.node, func(e kernel.XAEntry) error {
		fmt.Fprintf(b, "%x\n", e.Entry)
		if ta.pos {
			path := "direct"
			if !e.Direct {
				path = "root"
				for _, i := range e.Path[:len(e.Path)-1] {
					path += fmt.Sprintf("/%d", i)
				}
			}
			fmt.Fprintf(b, "  index: %d  position: %s/%d\n", e.Index, path, e.Index&mask)
		}
		entry(e.Entry)
		return nil
	})
	var dup *kernel.DuplicateTreeNodeError
	if errors.As(err, &dup) {
		b.WriteString("\n")
		flush()
	}
	return err
}

func (ta *treeArgs) maple(s *Session, t *symbols.Types, b *strings.Builder, flush func(), entry func(uint64)) error {
	root := ta.start
	if !ta.node {
		off, err := t.Offset("maple_tree.ma_root")
		if err != nil {
			return errors.New("maple trees do not exist or have changed their format")
		}
		p, err := kernel.ReadPointer(s.Mem, ta.start+uint64(off))
		if err != nil {
			return classifyReadError(err, kvaddr, ta.start, "mt_dump read maple_tree", s.dumpFormat())
		}
		root = p
	} else if !kernel.IsXAInternal(root) {
		return fmt.Errorf("-N %x: not a maple node entry", root)
	}
	index := 0
	return kernel.WalkMaple(s.Ctx(), s.Mem, root, func(e kernel.MapleEntry) error {
		fmt.Fprintf(b, "%x\n", e.Entry)
		if ta.pos {
			index++
			path := "root"
			if ta.node {
				path = "direct"
			}
			for _, i := range e.Path[:len(e.Path)-1] {
				path += fmt.Sprintf("/%d", i)
			}
			if e.Root {
				path = ""
			}
			fmt.Fprintf(b, "  index: %d  position: %s/%d\n", index, path, e.Path[len(e.Path)-1])
		}
		entry(e.Entry)
		return nil
	})
}
