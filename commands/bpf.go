package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"

	"gocrash/kernel"
)

// bpf: crash's bpf.c cmd_bpf — the loaded eBPF programs and maps: the
// listing, one program's or map's details (-p, -P, -m, -M), their
// structures (-s), a program's translated instructions (-t, -T) and its
// JIT code (-j). The kernel's walker (kernel.BPF) returns the values, and
// this file prints them as crash 8.0.6 does.

func init() {
	register(Command{
		Name:     "bpf",
		Summary:  "extended Berkeley Packet Filter (eBPF)",
		Synopsis: "[[-p ID | -P] [-tTj]] [[-m ID] | -M] [-s] [-xd]",
		Description: `  This command provides information on currently-loaded eBPF programs and
  maps.  With no options, it lists each program (its ID, the addresses of its
  bpf_prog and bpf_prog_aux structures, its type, tag and the IDs of the maps
  it uses), a blank line, and each map (its ID, the address of its bpf_map,
  its type and the hexadecimal value of its map_flags).  The options select
  programs or maps and show more of each:

  A program's details are the sizes of its translated (XLATED) and JIT code in
  bytes, the memory it locks, when it was loaded, whether its license is GPL
  compatible, its name and the uid of its user; a map's, its key and value
  sizes, its maximum entries, the memory it locks (computed from the sizes
  where the kernel keeps no page count, as crash does), its name and uid.  The
  translated instructions print as the kernel's verifier log prints them, a
  map by its ID and a helper by its name.  LOAD_TIME is the time on the
  dumped machine: crash 8.0.6 adds the load time to the boot time of the
  machine crash runs on, gocrash to the dumped kernel's (its sys DATE less its
  UPTIME).

  On a Debian 6.1 dump with a socket filter loaded, bpf -p 1 -T begins:

     ID      BPF_PROG       BPF_PROG_AUX   BPF_PROG_TYPE       TAG        USED_MAPS
     1   ff474ee7c00d2000 ff1e0d6b011ee800 SOCKET_FILTER 9bf9ac43cfefaf76     1
         XLATED: 112  JITED: 74  MEMLOCK: 4096
         LOAD_TIME: Tue Dec 01 23:07:25 2026
         GPL_COMPATIBLE: yes  NAME: "gocrash_filter"  UID: 0

       0: (62) *(u32 *)(r10 -4) = 0
           62 0a fc ff 00 00 00 00
       1: (bf) r2 = r10
           bf a2 00 00 00 00 00 00
       2: (07) r2 += -4
           07 02 00 00 fc ff ff ff
       3: (18) r1 = map[id:1]
           18 01 00 00 00 68 21 11 00 00 00 00 6b 0d 1e ff
       ...`,
		Flags: []Flag{
			{Name: "p", Arg: "ID", Help: "the program ID: its line and details."},
			{Name: "P", Help: "every program, each with its details."},
			{Name: "m", Arg: "ID", Help: "the map ID: its line and details."},
			{Name: "M", Help: "every map, each with its details."},
			{Name: "s", Help: "with -p/-P, each program's struct bpf_prog and struct bpf_prog_aux; with -m/-M, each map's struct bpf_map, as struct prints them."},
			{Name: "t", Help: "with -p/-P: the program's translated instructions."},
			{Name: "T", Help: "as -t, with each instruction's bytes below it."},
			{Name: "j", Help: "with -p/-P: the program's JIT code disassembled (\"(program not jited)\" where there is none)."},
			{Name: "x", Help: "with -s: the structures in hexadecimal (without -p, -P, -m or -M, crash's \"-x option requires -s\")."},
			{Name: "d", Help: "as -x: crash 8.0.6 takes -d for -x (hexadecimal too)."},
		},
		Examples: `  The sample dump's kernel has eBPF (prog_idr, map_idr) but nothing
  loaded: the listing is the blank line between the programs and the maps,
  -P and -M list nothing, and an ID is none:

    crash> bpf | wc -l
    1
    crash> bpf -P -t
    crash> bpf -p 1 -j
    bpf: invalid program ID: 1
    crash> bpf -m 2 -s
    bpf: invalid map ID: 2

  The options that need a program or map:

    crash> bpf -t
    bpf: -t option only applicable with -p or -P
    crash> bpf -s
    bpf: -s option requires either -p, -P, -m or -M`,
		Run: runBpf,
	})
}

// bpf's option flags (crash's bpf.c).
const (
	bpfProgID = 1 << iota
	bpfMapID
	bpfDumpStruct
	bpfJited
	bpfXlated
	bpfOpcodes
	bpfProgVerbose
	bpfMapVerbose
)

func runBpf(s *Session, args []string, w io.Writer) error {
	g := parseFlags("bpf", args)
	flags, radix := 0, 0
	var progID, mapID uint64
	for g.next() {
		switch g.flag {
		case "j":
			flags |= bpfJited
		case "T":
			flags |= bpfXlated | bpfOpcodes
		case "t":
			flags |= bpfXlated
		case "m", "p":
			// crash's stol(): decimal, else hexadecimal ("abc" is 2748)
			v, err := crashStol(g.val)
			if err != nil {
				return err
			}
			if g.flag == "m" {
				mapID, flags = v, flags|bpfMapID
			} else {
				progID, flags = v, flags|bpfProgID
			}
		case "s":
			flags |= bpfDumpStruct
		case "P":
			flags |= bpfProgVerbose
		case "M":
			flags |= bpfMapVerbose
		case "x", "d":
			if radix == 16 && g.flag == "d" {
				return errors.New("-d and -x are mutually exclusive")
			}
			radix = 16 // crash 8.0.6's cmd_bpf sets 16 for -d too
		}
	}
	if g.err != nil {
		return g.err
	}
	progs := flags&(bpfProgID|bpfProgVerbose) != 0
	if flags&bpfJited != 0 && !progs {
		return errors.New("-j option only applicable with -p or -P")
	}
	if flags&bpfXlated != 0 && !progs {
		return errors.New("-t option only applicable with -p or -P")
	}
	any := flags&(bpfProgID|bpfProgVerbose|bpfMapID|bpfMapVerbose) != 0
	if flags&bpfDumpStruct != 0 && !any {
		return errors.New("-s option requires either -p, -P, -m or -M")
	}
	if radix != 0 && !any {
		return errors.New("-x option requires -s")
	}
	if rest := g.rest(); len(rest) > 0 {
		return fmt.Errorf("invalid argument: %s", rest[0])
	}
	r, err := newBpfRun(s, w, flags, radix)
	if err != nil {
		return err
	}
	defer r.bw.Flush()
	return r.run(progID, mapID)
}

// bpfRun is one bpf command: crash's do_bpf.
type bpfRun struct {
	s           *Session
	bw          *bufio.Writer
	flags       int
	radix       int
	progs       []kernel.BPFProg
	maps        []kernel.BPFMap
	progTypes   []godwarf.EnumValue
	mapTypes    []godwarf.EnumValue
	progWidth   int
	mapWidth    int
	progHeader  string
	mapHeader   string
	symstr      func(uint64) string
	callBase    uint64
	hasCallBase bool
}

func newBpfRun(s *Session, w io.Writer, flags, radix int) (*bpfRun, error) {
	progs, maps, err := s.Kernel.BPF(s.Ctx())
	if err != nil {
		return nil, err
	}
	r := &bpfRun{s: s, bw: bufio.NewWriter(w), flags: flags, radix: radix, progs: progs, maps: maps}
	if r.progTypes, err = s.Kernel.EnumValues("bpf_prog_type"); err != nil {
		return nil, err
	}
	if r.mapTypes, err = s.Kernel.EnumValues("bpf_map_type"); err != nil {
		return nil, err
	}
	// crash's column widths: the longest enumerator less the 14 bytes of
	// "BPF_PROG_TYPE_" (for the map types too), the program's at most 13.
	longest := func(vals []godwarf.EnumValue) int {
		n := 0
		for _, v := range vals {
			n = max(n, len(v.Name))
		}
		return n - len("BPF_PROG_TYPE_")
	}
	r.progWidth, r.mapWidth = min(13, longest(r.progTypes)), longest(r.mapTypes)
	r.progHeader = center("ID", 4, false) + " " + center("BPF_PROG", 16, false) + " " + center("BPF_PROG_AUX", 16, false) + " " +
		center("BPF_PROG_TYPE", r.progWidth, false) + " " + "      TAG        USED_MAPS\n"
	r.mapHeader = center("ID", 4, false) + " " + center("BPF_MAP", 16, false) + " " + center("BPF_MAP_TYPE", r.mapWidth, false) + " MAP_FLAGS\n"
	return r, nil
}

func bpfTypeName(vals []godwarf.EnumValue, v int64, prefix string) string {
	for _, e := range vals {
		if e.Val == v {
			return strings.TrimPrefix(e.Name, prefix)
		}
	}
	return ""
}

func (r *bpfRun) run(progID, mapID uint64) error {
	bw := r.bw
	if r.flags&bpfProgID != 0 && !slices.ContainsFunc(r.progs, func(p kernel.BPFProg) bool { return p.ID == progID }) {
		return fmt.Errorf("invalid program ID: %d", int64(progID))
	}
	if r.flags&bpfMapID != 0 && !slices.ContainsFunc(r.maps, func(m kernel.BPFMap) bool { return m.ID == mapID }) {
		return fmt.Errorf("invalid map ID: %d", int64(mapID))
	}
	doProgs, doMaps := true, true
	if r.flags&(bpfProgID|bpfProgVerbose|bpfMapID|bpfMapVerbose) != 0 {
		doProgs = r.flags&(bpfProgID|bpfProgVerbose) != 0
		doMaps = r.flags&(bpfMapID|bpfMapVerbose) != 0
	}
	if doProgs {
		entries := 0
		for _, p := range r.progs {
			if r.flags&(bpfProgID|bpfProgVerbose) == bpfProgID && p.ID != progID {
				continue
			}
			if entries > 0 && r.flags&bpfProgVerbose != 0 {
				bw.WriteString("\n" + r.progHeader)
			}
			if entries == 0 {
				bw.WriteString(r.progHeader)
			}
			entries++
			if err := r.prog(p); err != nil {
				return err
			}
		}
		if !doMaps {
			return nil
		}
		bw.WriteString("\n")
	}
	entries := 0
	for _, m := range r.maps {
		if r.flags&(bpfMapID|bpfMapVerbose) == bpfMapID && m.ID != mapID {
			continue
		}
		if entries > 0 && r.flags&bpfMapVerbose != 0 {
			bw.WriteString("\n" + r.mapHeader)
		}
		if entries == 0 {
			bw.WriteString(r.mapHeader)
		}
		entries++
		if err := r.bpfMap(m); err != nil {
			return err
		}
	}
	return nil
}

func bpfHex(v uint64) string { return center(strconv.FormatUint(v, 16), 16, false) }

// prog is one program's line and what the options add below it.
func (r *bpfRun) prog(p kernel.BPFProg) error {
	bw := r.bw
	var used []string
	for _, m := range p.UsedMaps {
		for _, mp := range r.maps {
			if mp.Addr == m {
				used = append(used, strconv.FormatUint(mp.ID, 10))
			}
		}
	}
	tag := ""
	for _, b := range p.Tag {
		tag += fmt.Sprintf("%02x", b)
	}
	fmt.Fprintf(bw, "%s %s %s %s %s %s \n", center(strconv.FormatUint(p.ID, 10), 4, false), bpfHex(p.Addr), bpfHex(p.Aux),
		center(bpfTypeName(r.progTypes, p.Type, "BPF_PROG_TYPE_"), r.progWidth, false), tag, center(strings.Join(used, ","), len("USED_MAPS"), false))
	if r.flags&(bpfProgID|bpfProgVerbose) != 0 {
		fmt.Fprintf(bw, "     XLATED: %d  JITED: %d  MEMLOCK: ", int32(p.Len*8), int32(p.JitedLen))
		if p.HasPages {
			// crash keeps pages * PAGESIZE in its ushort
			fmt.Fprintf(bw, "%d\n", uint16(uint64(p.Pages)*uint64(r.s.Dump.PageSize())))
		} else {
			bw.WriteString("(unknown)\n")
		}
		bw.WriteString("     LOAD_TIME: ")
		if p.HasLoadTime {
			bw.WriteString(r.loadTime(p.LoadTime) + "\n")
		} else {
			bw.WriteString("(unknown)\n")
		}
		gpl := "(unknown)"
		switch p.GPL {
		case kernel.BPFYes:
			gpl = "yes"
		case kernel.BPFNo:
			gpl = "no"
		}
		fmt.Fprintf(bw, "     GPL_COMPATIBLE: %s  NAME: ", gpl)
		switch {
		case !p.HasName:
			bw.WriteString("(unknown)")
		case p.Name == "":
			bw.WriteString("(unused)")
		default:
			bw.WriteString("\"" + p.Name + "\"")
		}
		bw.WriteString("  UID: ")
		if p.UID.State == kernel.BPFUIDKnown {
			fmt.Fprintf(bw, "%d\n", int32(p.UID.UID))
		} else {
			bw.WriteString("(unknown)\n")
		}
	}
	if r.flags&bpfJited != 0 {
		bw.WriteString("\n")
		if p.JitedLen == 0 {
			bw.WriteString("(program not jited)\n")
		} else if err := r.jited(p); err != nil {
			return err
		}
	}
	if r.flags&bpfXlated != 0 {
		bw.WriteString("\n")
		code, err := r.s.Kernel.BPFInsns(p)
		if err != nil {
			return fmt.Errorf("read error: kernel virtual address: %x  type: \"bpf_prog.insnsi contents\"", p.Insnsi)
		}
		var b strings.Builder
		err = writeBPFXlated(&b, kernel.DecodeBPFInsns(code), r.flags&bpfOpcodes != 0, r.names())
		bw.WriteString(b.String())
		if err != nil {
			return err
		}
	}
	if r.flags&bpfDumpStruct != 0 {
		bw.WriteString("\n")
		if err := r.dumpStruct("bpf_prog", p.Addr); err != nil {
			return err
		}
		bw.WriteString("\n")
		if err := r.dumpStruct("bpf_prog_aux", p.Aux); err != nil {
			return err
		}
	}
	return nil
}

// loadTime is the wall-clock time of a load_time (ns of boot time).
// crash 8.0.6 adds it to the boot time of the machine crash runs on
// (print_boot_time: CLOCK_REALTIME - CLOCK_BOOTTIME, a host's clocks);
// gocrash adds it to the dumped kernel's boot time, its sys DATE less its
// UPTIME: the time the program was loaded on the dumped machine.
func (r *bpfRun) loadTime(ns uint64) string {
	boot, err := r.s.BootTime()
	if err != nil {
		return strconv.FormatUint(ns/1e9, 10) // crash's answer where its clocks fail
	}
	loc := r.s.Location
	if loc == nil {
		loc = time.Local
	}
	return boot.Add(time.Duration(ns / 1e9 * 1e9)).In(loc).Format("Mon Jan 02 15:04:05 2006")
}

// names resolves what the translated instructions refer to.
func (r *bpfRun) names() bpfNames {
	if r.symstr == nil {
		r.symstr = r.s.symstrAll()
		r.callBase, r.hasCallBase = r.s.Vmlinux.Lookup("__bpf_call_base")
	}
	return bpfNames{
		mapID: func(addr uint64) (uint64, bool) {
			for _, m := range r.maps {
				if m.Addr == addr {
					return m.ID, true
				}
			}
			return 0, false
		},
		helper: r.s.Kernel.BPFHelperName,
		callAt: func(imm int32) (string, bool) {
			if !r.hasCallBase {
				return "", false
			}
			name := r.symstr(r.callBase + uint64(int64(imm)))
			if name == "" || strings.Contains(name, "+") {
				return "", false
			}
			return name, true
		},
	}
}

// dumpStruct is crash's dump_struct(name, addr, radix): as struct NAME
// ADDR prints it, in hexadecimal with -x or -d, else in the output radix.
func (r *bpfRun) dumpStruct(name string, addr uint64) error {
	t, err := r.s.Types()
	if err != nil {
		return err
	}
	obj, err := t.Object(r.s.Mem, addr, name)
	if err != nil {
		return err
	}
	hex := r.radix == 16 || (r.radix == 0 && r.s.Settings().outputRadix() == 16)
	return r.s.FormatObject(r.bw, obj, hex)
}

// bpfMap is one map's line and what the options add below it.
func (r *bpfRun) bpfMap(m kernel.BPFMap) error {
	bw := r.bw
	fmt.Fprintf(bw, "%s %s %s  %08x \n", center(strconv.FormatUint(m.ID, 10), 4, false), bpfHex(m.Addr),
		center(bpfTypeName(r.mapTypes, m.Type, "BPF_MAP_TYPE_"), r.mapWidth, false), m.Flags)
	if r.flags&(bpfMapID|bpfMapVerbose) != 0 {
		num := func(label string, v uint32, has bool) {
			bw.WriteString(label)
			if has {
				fmt.Fprintf(bw, "%d", int32(v))
			} else {
				bw.WriteString("(unknown)")
			}
		}
		num("     KEY_SIZE: ", m.KeySize, m.HasKeySize)
		num("  VALUE_SIZE: ", m.ValueSize, m.HasValueSize)
		num("  MAX_ENTRIES: ", m.MaxEntries, m.HasMaxEntries)
		bw.WriteString("  MEMLOCK: ")
		ps := uint32(r.s.Dump.PageSize())
		if m.HasPages {
			fmt.Fprintf(bw, "%d\n", int32(m.Pages*ps))
		} else if size := r.mapMemory(m, ps); size != 0 {
			fmt.Fprintf(bw, "%d\n", int64(size))
		} else {
			bw.WriteString("(unknown)") // crash's, without a newline
		}
		bw.WriteString("     NAME: ")
		switch {
		case !m.HasName:
			bw.WriteString("(unknown)\n") // crash's, with a newline
		case m.Name == "":
			bw.WriteString("(unused)")
		default:
			bw.WriteString("\"" + m.Name + "\"")
		}
		bw.WriteString("  UID: ")
		switch m.UID.State {
		case kernel.BPFUIDKnown:
			fmt.Fprintf(bw, "%d\n", int32(m.UID.UID))
		case kernel.BPFUIDUnknown:
			bw.WriteString("(unknown)\n")
		default:
			bw.WriteString("(unused)\n")
		}
	}
	if r.flags&bpfDumpStruct != 0 {
		bw.WriteString("\n")
		if err := r.dumpStruct("bpf_map", m.Addr); err != nil {
			return err
		}
	}
	return nil
}

// mapMemory is crash's bpf_map_memory_size, the map's memory where the
// kernel does not count its pages (5.11 on): the entries' keys and
// values, each rounded up to 8 bytes (a value per possible cpu for the
// per-cpu types, a u32 for the types holding fds), in whole pages. It is
// 0 where a per-cpu map's cpus are not known (crash warns).
func (r *bpfRun) mapMemory(m kernel.BPFMap, ps uint32) uint64 {
	roundup := func(x, y uint32) uint32 { return (x + y - 1) / y * y }
	var valsize uint32
	switch m.Type {
	case 5, 6, 10, 21: // PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH, PERCPU_CGROUP_STORAGE
		if m.PossibleCPUs == 0 {
			fmt.Fprintf(r.bw, "WARNING: cpu_possible_map does not exist, possible cpus: %d\n", m.PossibleCPUs)
			return 0
		}
		valsize = roundup(m.ValueSize, 8) * uint32(m.PossibleCPUs)
	case 3, 4, 8, 12, 13: // PROG_ARRAY, PERF_EVENT_ARRAY, CGROUP_ARRAY, ARRAY_OF_MAPS, HASH_OF_MAPS
		valsize = 4
	default:
		valsize = m.ValueSize
	}
	size := uint64(roundup(m.KeySize+valsize, 8))
	total := uint64(m.MaxEntries) * size
	if ps == 0 {
		return total
	}
	return (total + uint64(ps) - 1) / uint64(ps) * uint64(ps)
}

// jited is bpf -j: the program's JIT image disassembled.
func (r *bpfRun) jited(p kernel.BPFProg) error {
	r.bw.Flush()
	return r.s.disJIT(r.bw, p.Func, p.Func+uint64(p.JitedLen), r.radix)
}
