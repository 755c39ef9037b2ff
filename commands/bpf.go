package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// bpf: crash's bpf.c cmd_bpf — the loaded eBPF programs and maps, as its
// basic listing prints them. The per-program and per-map details (-p, -P,
// -m, -M), the structures (-s) and the bytecode and JIT disassembly (-t,
// -T, -j) are crash options gocrash does not have yet.

func init() {
	register(Command{
		Name:     "bpf",
		Summary:  "extended Berkeley Packet Filter (eBPF)",
		Synopsis: "[[-p ID | -P] [-tTj]] [[-m ID] | -M] [-s] [-xd]",
		Description: `  This command provides information on currently-loaded eBPF programs and
  maps: for each program its ID, the addresses of its bpf_prog and
  bpf_prog_aux structures, its type, tag and the IDs of the maps it uses;
  for each map its ID, the address of its bpf_map, its type and the
  hexadecimal value of its map_flags.  crash's -p, -P, -m, -M, -s, -t, -T
  and -j (one program's or map's details, the structures, the bytecode and
  the JIT code) are not in gocrash yet.`,
		Flags: []Flag{
			{Name: "p", Arg: "ID", Help: "crash: the program ID's details (not in gocrash yet)."},
			{Name: "P", Help: "crash: every program's details (not in gocrash yet)."},
			{Name: "m", Arg: "ID", Help: "crash: the map ID's details (not in gocrash yet)."},
			{Name: "M", Help: "crash: every map's details (not in gocrash yet)."},
			{Name: "s", Help: "crash: the bpf_prog, bpf_prog_aux or bpf_map structures (not in gocrash yet)."},
			{Name: "t", Help: "crash: the program's bytecode translated (not in gocrash yet)."},
			{Name: "T", Help: "crash: as -t, with each instruction's bytes (not in gocrash yet)."},
			{Name: "j", Help: "crash: the program's JIT code disassembled (not in gocrash yet)."},
			{Name: "x", Help: "with crash's -s: hexadecimal (alone, crash's \"-x option requires -s\")."},
			{Name: "d", Help: "with crash's -s: decimal (alone, crash's \"-x option requires -s\": crash 8.0.6 takes -d for -x)."},
		},
		Examples: `  The sample dump's kernel has eBPF (prog_idr, map_idr) but nothing
  loaded: the listing is the blank line between the programs and the maps:

    crash> bpf | wc -l
    1`,
		Run: runBpf,
	})
}

func runBpf(s *Session, args []string, w io.Writer) error {
	g := parseFlags("bpf", args)
	radix := 0
	for g.next() {
		switch g.flag {
		case "x":
			if radix == 10 {
				return errors.New("-d and -x are mutually exclusive")
			}
			radix = 16
		case "d":
			if radix == 16 {
				return errors.New("-d and -x are mutually exclusive")
			}
			radix = 16 // crash 8.0.6's cmd_bpf sets 16 for -d too
		default:
			return &UsageError{Cmd: "bpf", Reason: "-" + g.flag + ": crash 8.0.6 has this option; gocrash does not have it yet"}
		}
	}
	if g.err != nil {
		return g.err
	}
	if radix != 0 {
		return errors.New("-x option requires -s")
	}
	if rest := g.rest(); len(rest) > 0 {
		return fmt.Errorf("invalid argument: %s", rest[0])
	}
	progs, maps, err := s.Kernel.BPF(s.Ctx())
	if err != nil {
		return err
	}
	progTypes, err := s.Kernel.EnumValues("bpf_prog_type")
	if err != nil {
		return err
	}
	mapTypes, err := s.Kernel.EnumValues("bpf_map_type")
	if err != nil {
		return err
	}
	// crash's column widths: the longest enumerator less the 14 bytes of
	// "BPF_PROG_TYPE_" (for the map types too), the program's at most 13.
	longest := func(names []string) int {
		n := 0
		for _, s := range names {
			n = max(n, len(s))
		}
		return n - len("BPF_PROG_TYPE_")
	}
	var pn, mn []string
	for _, v := range progTypes {
		pn = append(pn, v.Name)
	}
	for _, v := range mapTypes {
		mn = append(mn, v.Name)
	}
	progWidth, mapWidth := min(13, longest(pn)), longest(mn)
	typeName := func(vals []string, values []int64, v int64, prefix string) string {
		for i := range vals {
			if values[i] == v {
				return strings.TrimPrefix(vals[i], prefix)
			}
		}
		return ""
	}
	var pv, mv []int64
	for _, v := range progTypes {
		pv = append(pv, v.Val)
	}
	for _, v := range mapTypes {
		mv = append(mv, v.Val)
	}
	hex := func(v uint64) string { return center(strconv.FormatUint(v, 16), 16, false) }
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	for i, p := range progs {
		if i == 0 {
			bw.WriteString(center("ID", 4, false) + " " + center("BPF_PROG", 16, false) + " " + center("BPF_PROG_AUX", 16, false) + " " +
				center("BPF_PROG_TYPE", progWidth, false) + " " + "      TAG        USED_MAPS\n")
		}
		var used []string
		for _, m := range p.UsedMaps {
			for _, mp := range maps {
				if mp.Addr == m {
					used = append(used, strconv.FormatUint(mp.ID, 10))
				}
			}
		}
		tag := ""
		for _, b := range p.Tag {
			tag += fmt.Sprintf("%02x", b)
		}
		fmt.Fprintf(bw, "%s %s %s %s %s %s \n", center(strconv.FormatUint(p.ID, 10), 4, false), hex(p.Addr), hex(p.Aux),
			center(typeName(pn, pv, p.Type, "BPF_PROG_TYPE_"), progWidth, false), tag, center(strings.Join(used, ","), len("USED_MAPS"), false))
	}
	bw.WriteString("\n")
	for i, m := range maps {
		if i == 0 {
			bw.WriteString(center("ID", 4, false) + " " + center("BPF_MAP", 16, false) + " " + center("BPF_MAP_TYPE", mapWidth, false) + " MAP_FLAGS\n")
		}
		fmt.Fprintf(bw, "%s %s %s  %08x \n", center(strconv.FormatUint(m.ID, 10), 4, false), hex(m.Addr),
			center(typeName(mn, mv, m.Type, "BPF_MAP_TYPE_"), mapWidth, false), m.Flags)
	}
	return nil
}
