package commands

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gocrash/kernel"
)

func init() {
	register(Command{
		Name:     "irq",
		Summary:  "IRQ data",
		Synopsis: "[[[index ...] | -u ] | -d | -b | -a | -s [-c cpu]]",
		Description: `  This command displays the interrupt descriptors: for each IRQ number below
  nr_irqs, its struct irq_desc (found in the kernel's sparse irq tree:
  irq_desc_tree before 6.5, the sparse_irqs maple tree since, else the
  irq_desc[] array), its first struct irqaction and the name of each
  handler on its chain.`,
		Flags: []Flag{
			{Name: "u", Help: "the IRQs that have a descriptor (crash 8.0.6's in-use test reads irq_desc.chip, gone since 2.6.37: on current kernels it leaves out only the IRQs without a descriptor, and so does gocrash)."},
			{Name: "b", Help: "the softirq vector: each softirq's action function."},
			{Name: "a", Help: "the cpu affinity of each IRQ in use."},
			{Name: "s", Help: "the per-cpu interrupt counts of each IRQ in use, like /proc/interrupts."},
			{Name: "c", Arg: "cpu", Help: `with -s, these cpus only: "1", "0,3", "1-2", "all".`},
			{Name: "d", Help: "the interrupt descriptor table (idt_table): the handler of each of the 256 vectors, by symbol (symbol+offset in decimal), else its address."},
		},
		Operands: []Operand{{"index", "an IRQ number: that IRQ only."}},
		Examples: `  The IRQs of the sample dump:

    crash> irq
     IRQ   IRQ_DESC/_DATA      IRQACTION      NAME
      0   ff42bab500145200  ff42bab500143100  "timer"
      1   ff42bab500145400      (unused)
    ...
      4   ff42bab500145a00  ff42bab501864680  "ttyS0"
    ...

  Interrupt counts per cpu:

    crash> irq -s
               CPU0       CPU1
      0:         53          0  IO-APIC-edge     timer
    ...`,
		Run: runIRQ,
	})
}

func runIRQ(s *Session, args []string, w io.Writer) error {
	var inUse, aff, stats, cpuTwice bool
	var cpuArg, first string
	g := parseFlags("irq", args)
	for g.next() {
		switch g.flag {
		case "u":
			inUse = true
		case "b", "d":
			// crash shows the softirq vector or the IDT as soon as
			// getopt meets -b or -d: the first of them wins.
			if first == "" {
				first = g.flag
			}
		case "a":
			aff = true
		case "s":
			stats = true
		case "c":
			if cpuArg != "" {
				cpuTwice = true
			}
			cpuArg = g.val
		}
	}
	if g.err != nil {
		return g.err
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	switch first {
	case "d":
		return writeIDT(s, bw)
	case "b":
		return writeSoftirqVec(s, bw)
	}
	if cpuTwice {
		bw.WriteString("irq: only one -c option allowed\n")
		bw.Flush()
		return usageErr("irq", "")
	}
	tab, err := s.IRQTable(s.Ctx())
	if err != nil {
		return err
	}
	if tab.NrIRQs == 0 {
		return fmt.Errorf("cannot determine number of IRQs")
	}
	ncpu, err := s.NumCPUs()
	if err != nil {
		return err
	}
	if aff {
		bw.WriteString("IRQ NAME                 AFFINITY\n")
		for i := 0; i < tab.NrIRQs; i++ {
			if err := s.Ctx().Err(); err != nil {
				return err
			}
			d, ok := tab.Descs[i]
			if !ok {
				continue
			}
			acts, err := s.IRQActions(d)
			if err != nil || len(acts) == 0 {
				continue
			}
			mask, err := s.IRQAffinity(d, (ncpu+63)/64*8)
			if err != nil {
				return err
			}
			fmt.Fprintf(bw, "%3d %-20s %s\n", i, actionNames(acts), cpuRanges(mask, ncpu))
		}
		return nil
	}
	if stats {
		cpus := map[int]bool{}
		if cpuArg != "" {
			if cpus, err = parseCPUList(cpuArg, ncpu); err != nil {
				return err
			}
		} else {
			for i := 0; i < ncpu; i++ {
				cpus[i] = true
			}
		}
		var offs []uint64
		var shown []int
		bw.WriteString("     ")
		for i := 0; i < ncpu; i++ {
			off, err := s.PerCPUOffset(i)
			if err != nil {
				return err
			}
			offs = append(offs, off)
			if cpus[i] {
				fmt.Fprintf(bw, "%10s ", fmt.Sprintf("CPU%d", i))
				shown = append(shown, i)
			}
		}
		bw.WriteString("\n")
		for i := 0; i < tab.NrIRQs; i++ {
			if err := s.Ctx().Err(); err != nil {
				return err
			}
			d, ok := tab.Descs[i]
			if !ok {
				continue
			}
			acts, err := s.IRQActions(d)
			if err != nil || len(acts) == 0 {
				continue
			}
			counts, err := s.IRQCounts(d, offs)
			if err != nil {
				return err
			}
			fmt.Fprintf(bw, "%3d: ", i)
			for _, c := range shown {
				fmt.Fprintf(bw, "%10d ", counts[c])
			}
			chip, chipOK, name, nameOK := s.IRQChip(d)
			if chipOK {
				fmt.Fprintf(bw, "%8s", chip)
			}
			if nameOK {
				fmt.Fprintf(bw, "-%-8s", name)
			}
			fmt.Fprintf(bw, " %s\n", actionNames(acts))
		}
		return nil
	}
	rows, err := s.irqRows(tab, g.rest(), inUse)
	if err != nil {
		return err
	}
	bw.WriteString(" IRQ   IRQ_DESC/_DATA      IRQACTION      NAME\n")
	for _, r := range rows {
		desc := center("(unused)", 16, false)
		if r.Desc != 0 {
			desc = fmt.Sprintf("%-16x", uint64(r.Desc))
		}
		fmt.Fprintf(bw, "%s  %s  ", center(strconv.Itoa(r.IRQ), 4, true), desc)
		if len(r.Actions) == 0 {
			fmt.Fprintf(bw, "%s  \n", center("(unused)", 16, false))
			continue
		}
		for j, a := range r.Actions {
			if j > 0 {
				bw.WriteString("\n" + strings.Repeat(" ", 4+2+16+2))
			}
			fmt.Fprintf(bw, "%-16x  ", uint64(a.Action))
			if a.Name != nil {
				fmt.Fprintf(bw, "\"%s\"", *a.Name)
			}
		}
		bw.WriteString("\n")
	}
	return nil
}

// IRQJSON is one IRQ of irq's table.
type IRQJSON struct {
	IRQ     int             `json:"irq" desc:"IRQ"`
	Desc    Addr            `json:"irq_desc" desc:"IRQ_DESC/_DATA: its struct irq_desc; 0 when it has none (the text's (unused))"`
	Actions []IRQActionJSON `json:"actions" desc:"IRQACTION, NAME: its handlers, none when unused"`
}

// IRQActionJSON is one handler of an IRQ.
type IRQActionJSON struct {
	Action Addr    `json:"irqaction" desc:"IRQACTION: the struct irqaction"`
	Name   *string `json:"name" desc:"NAME: irqaction.name; null when unreadable"`
}

// irqRows is irq's table: the IRQs args name, else every IRQ (inUse:
// only those with handlers).
func (s *Session) irqRows(tab *kernel.IRQTable, args []string, inUse bool) ([]IRQJSON, error) {
	var which []int
	if len(args) > 0 {
		for _, a := range args {
			n, err := strconv.Atoi(a)
			if err != nil {
				return nil, fmt.Errorf("invalid decimal argument: %s", a)
			}
			if n >= tab.NrIRQs {
				return nil, fmt.Errorf("invalid IRQ value: %d  (%d max)", n, tab.NrIRQs-1)
			}
			which = append(which, n)
		}
		inUse = false
	} else {
		for i := 0; i < tab.NrIRQs; i++ {
			which = append(which, i)
		}
	}
	rows := []IRQJSON{}
	for _, i := range which {
		if err := s.Ctx().Err(); err != nil {
			return nil, err
		}
		d, ok := tab.Descs[i]
		var acts []IRQAction
		if ok {
			var err error
			if acts, err = s.IRQActions(d); err != nil && len(acts) == 0 {
				return nil, err
			}
		}
		if inUse && !ok {
			// crash's -u leaves out only the IRQs without a descriptor:
			// its "no action and no_irq_chip" test reads irq_desc.chip,
			// a member gone since 2.6.37, and never holds after.
			continue
		}
		r := IRQJSON{IRQ: i, Actions: []IRQActionJSON{}}
		if ok {
			r.Desc = Addr(d)
		}
		for _, a := range acts {
			j := IRQActionJSON{Action: Addr(a.Addr)}
			if a.NameOK {
				name := a.Name
				j.Name = &name
			}
			r.Actions = append(r.Actions, j)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// irqJSON is irq's JSON: the default table, -u and IRQ numbers.
func irqJSON(s *Session, args []string) (any, error) {
	inUse := false
	g := parseFlags("irq", args)
	for g.next() {
		switch g.flag {
		case "u":
			inUse = true
		default:
			return nil, jsonOptionsErr("irq", args)
		}
	}
	if g.err != nil {
		return nil, g.err
	}
	tab, err := s.IRQTable(s.Ctx())
	if err != nil {
		return nil, err
	}
	if tab.NrIRQs == 0 {
		return nil, fmt.Errorf("cannot determine number of IRQs")
	}
	return s.irqRows(tab, g.rest(), inUse)
}

// IRQAction is the kernel's irqaction as the irq command shows it.
type IRQAction = kernel.IRQAction

func actionNames(acts []IRQAction) string {
	var names []string
	for _, a := range acts {
		if a.NameOK {
			names = append(names, a.Name)
		}
	}
	return strings.Join(names, ",")
}

// cpuRanges is crash's display_cpu_affinity: "0-3,6".
func cpuRanges(mask []byte, ncpu int) string {
	var b strings.Builder
	set := func(c int) bool { return c/8 < len(mask) && mask[c/8]>>(c%8)&1 != 0 }
	for c := 0; c < ncpu; {
		if !set(c) {
			c++
			continue
		}
		start := c
		for c < ncpu && set(c) {
			c++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if start == c-1 {
			fmt.Fprintf(&b, "%d", start)
		} else {
			fmt.Fprintf(&b, "%d-%d", start, c-1)
		}
	}
	return b.String()
}

// writeSoftirqVec is crash's display_bh_4: softirq_vec[] actions.
func writeSoftirqVec(s *Session, w *bufio.Writer) error {
	o, err := s.Var("softirq_vec")
	if err != nil {
		return fmt.Errorf("bottom-half option not supported")
	}
	n := o.Len()
	if n == 0 {
		return fmt.Errorf("cannot determine softirq_vec array length")
	}
	fmt.Fprintf(w, "SOFTIRQ_VEC %s\n", center("ACTION", 16, true))
	for i := 0; i < n; i++ {
		el, err := o.Index(i)
		if err != nil {
			return err
		}
		m, err := el.Member("action")
		if err != nil {
			return err
		}
		p, err := m.Pointer()
		if err != nil {
			return err
		}
		if p == 0 {
			continue
		}
		pad := "   "
		if i < 10 {
			pad = "    "
		}
		name, off, ok := s.Vmlinux.Symbolize(p)
		sym := ""
		if ok && off == 0 {
			sym = name
		}
		fmt.Fprintf(w, "    [%d]%s %s  <%s>\n", i, pad, center(fmt.Sprintf("%x", p), 16, true), sym)
	}
	return nil
}

// writeIDT is irq -d: crash's x86_64_display_idt_table. A handler the
// symbol table does not name is printed as an address; when it maps to
// memory, crash also tries the name of its direct-map alias.
func writeIDT(s *Session, w *bufio.Writer) error {
	idt, err := s.IDT()
	if err != nil {
		return err
	}
	sym := s.symbolizer()
	for i, addr := range idt {
		if err := s.Ctx().Err(); err != nil {
			return err
		}
		name := ""
		if sym != nil {
			name = sym(addr)
		}
		if name == "" {
			name = fmt.Sprintf("%016x", addr)
			if p, ok := s.KVToP(addr); ok && sym != nil {
				if n := sym(s.PageOffset() + p); n != "" {
					name += "  <" + n + ">"
				}
			}
		}
		fmt.Fprintf(w, "%5s %s\n", "["+strconv.Itoa(i)+"]", name)
	}
	return nil
}
