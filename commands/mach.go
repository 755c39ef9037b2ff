package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gocrash/symbols"
)

// mach: crash's x86_64.c x86_64_cmd_mach — the machine's summary
// (x86_64_display_machine_stats), each cpu's struct cpuinfo_x86
// (x86_64_display_cpu_data, -c) and the firmware's e820 map
// (x86_64_display_memmap, -m).

func init() {
	register(Command{
		Name:    "mach",
		Summary: "machine specific data",
		// crash's usage line names -o (PowerPC's OPAL data), which its
		// x86_64 mach refuses.
		Synopsis: "[-m | -c -[xd] | -o]",
		Description: `  This command displays data specific to a machine type: the machine, its
  memory size, cpus, processor speed and tick rate (HZ), page size, the
  bases of the kernel's virtual address space (the direct map, vmalloc,
  vmemmap, the kernel image mapping and the modules area), the kernel
  stack size, and each cpu's IRQ stack and exception (IST) stacks.  An
  exception stack is named by the IDT gate that uses it; one that no
  gate's handler names is "(unknown)", its size 0, as crash shows it.`,
		Flags: []Flag{
			{Name: "c", Help: "display each cpu's cpuinfo_x86 structure (the per-cpu cpu_info)."},
			{Name: "m", Help: "display the physical memory map (the firmware's e820 table)."},
			{Name: "x", Help: "with -c, override the default output format with hexadecimal format."},
			{Name: "d", Help: "with -c, override the default output format with decimal format."},
			{Name: "o", Help: "PowerPC's OPAL data: not on x86_64, where crash too answers with the usage."},
		},
		Examples: `  The sample dump's machine:

    crash> mach
              MACHINE TYPE: x86_64
               MEMORY SIZE: 383.5 MB
                      CPUS: 2
           PROCESSOR SPEED: 2595 Mhz
                        HZ: 250
                 PAGE SIZE: 4096
       KERNEL VIRTUAL BASE: ff42bab500000000
       KERNEL VMALLOC BASE: ff5ed7c980000000
       KERNEL VMEMMAP BASE: ffcc70a040000000
          KERNEL START MAP: ffffffff80000000
       KERNEL MODULES BASE: ffffffffc0000000
         KERNEL STACK SIZE: 16384
            IRQ STACK SIZE: 16384
                IRQ STACKS:
                     CPU 0: ff5ed7c980000000
                     CPU 1: ff5ed7c9800b5000
    DOUBLEFAULT STACK SIZE: 8192
        DOUBLEFAULT STACKS:
                     CPU 0: fffffe0000009000
                     CPU 1: fffffe0000044000
    ...

  The firmware's memory map:

    crash> mach -m
          PHYSICAL ADDRESS RANGE         TYPE
    0000000000000000 - 0000000000001000  E820_RESERVED
    0000000000001000 - 000000000009fc00  E820_RAM
    ...

  The first cpu's cpuinfo_x86:

    crash> mach -c
    CPU 0:
    struct cpuinfo_x86 {
      x86 = 15 '\017',
      x86_vendor = 2 '\002',
      x86_model = 107 'k',
    ...`,
		Run: runMach,
	})
}

func runMach(s *Session, args []string, w io.Writer) error {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	g := parseFlags("mach", args)
	cflag, mflag, radix := false, false, 0
	for g.next() {
		switch g.flag {
		case "c":
			cflag = true
		case "m":
			// crash prints the map as it reads the option.
			mflag = true
			if err := writeE820(s, bw); err != nil {
				return err
			}
		case "x":
			if err := setRadix(&radix, 16); err != nil {
				return err
			}
		case "d":
			if err := setRadix(&radix, 10); err != nil {
				return err
			}
		case "o":
			return &UsageError{Cmd: "mach", Reason: "invalid option -- 'o'"}
		}
	}
	if g.err != nil {
		bw.Flush()
		return g.err
	}
	// crash ignores any other argument.
	if cflag {
		if err := writeCPUData(s, bw, radix); err != nil {
			return err
		}
	}
	if !cflag && !mflag {
		return writeMachineStats(s, bw)
	}
	return nil
}

func writeMachineStats(s *Session, w *bufio.Writer) error {
	sys, err := s.Sys(s.Ctx())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "          MACHINE TYPE: %s\n", sys.Utsname.Machine)
	fmt.Fprintf(w, "           MEMORY SIZE: %s\n", formatMemorySize(sys.MemorySize, sys.PageSize))
	fmt.Fprintf(w, "                  CPUS: %d", sys.CPUs)
	if sys.OfflineCPUs != 0 {
		fmt.Fprintf(w, " [OFFLINE: %d]", sys.OfflineCPUs)
	}
	w.WriteString("\n")
	if h := s.Kernel.Hypervisor(); h != "(undetermined)" && h != "bare hardware" {
		fmt.Fprintf(w, "            HYPERVISOR: %s\n", h)
	}
	w.WriteString("       PROCESSOR SPEED: ")
	if sys.MHz != 0 {
		fmt.Fprintf(w, "%d Mhz\n", sys.MHz)
	} else {
		w.WriteString("(unknown)\n")
	}
	fmt.Fprintf(w, "                    HZ: %d\n", machHZ(s))
	fmt.Fprintf(w, "             PAGE SIZE: %d\n", sys.PageSize)
	b := s.Kernel.Bases()
	fmt.Fprintf(w, "   KERNEL VIRTUAL BASE: %x\n", b.PageOffset)
	fmt.Fprintf(w, "   KERNEL VMALLOC BASE: %x\n", b.Vmalloc)
	if b.Vmemmap != 0 {
		fmt.Fprintf(w, "   KERNEL VMEMMAP BASE: %x\n", b.Vmemmap)
	}
	fmt.Fprintf(w, "      KERNEL START MAP: %x\n", b.StartKernelMap)
	fmt.Fprintf(w, "   KERNEL MODULES BASE: %x\n", b.Modules)
	t, err := s.Types()
	if err != nil {
		return err
	}
	stackSize, _, err := symbols.StackSizes(t)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "     KERNEL STACK SIZE: %d\n", stackSize)
	ms, err := s.Kernel.MachineStacks(sys.CPUs)
	if ms == nil {
		return err
	}
	fmt.Fprintf(w, "        IRQ STACK SIZE: %d\n", ms.IRQSize)
	w.WriteString("            IRQ STACKS:\n")
	for c, base := range ms.IRQBase {
		fmt.Fprintf(w, "%22s: %016x\n", "CPU "+strconv.Itoa(c), base)
	}
	for _, ex := range ms.Exceptions {
		fmt.Fprintf(w, "%11s STACK SIZE: %d\n", ex.Name, ex.Size)
		// crash pads "NAME STACKS:\n", newline included, to 24.
		fmt.Fprintf(w, "%24s", ex.Name+" STACKS:\n")
		for c, base := range ex.Base {
			fmt.Fprintf(w, "%22s: %016x", "CPU "+strconv.Itoa(c), base)
			if !ex.Avail[c] {
				w.WriteString(" [unavailable]")
			}
			w.WriteString("\n")
		}
	}
	return err
}

// machHZ is crash's machdep->hz: CONFIG_HZ from the kernel's embedded
// config when it has one (kernel.c read_in_kernel_config), else the rate
// gocrash derives from tick_nsec (see kernel.HZ for where crash's own
// fallback differs).
func machHZ(s *Session) uint64 {
	if cfg, err := s.Config(); err == nil {
		for _, l := range strings.Split(string(cfg), "\n") {
			if v, ok := strings.CutPrefix(l, "CONFIG_HZ="); ok {
				if hz, err := strconv.ParseUint(v, 10, 32); err == nil {
					return hz
				}
			}
		}
	}
	hz, _ := s.Kernel.HZ()
	return hz
}

// e820Types are crash's names of the e820 types it knows.
var e820Types = []string{"(invalid type)", "E820_RAM", "E820_RESERVED", "E820_ACPI", "E820_NVS", "E820_UNUSABLE"}

func writeE820(s *Session, w *bufio.Writer) error {
	entries, err := s.Kernel.E820()
	if err != nil && len(entries) == 0 {
		return err
	}
	w.WriteString("      PHYSICAL ADDRESS RANGE         TYPE\n")
	for _, e := range entries {
		fmt.Fprintf(w, "%016x - %016x  ", e.Addr, e.Addr+e.Size)
		switch {
		case int(e.Type) < len(e820Types):
			w.WriteString(e820Types[e.Type] + "\n")
		case e.Type == 12:
			w.WriteString("E820_PRAM\n")
		case e.Type == 128:
			w.WriteString("E820_RESERVED_KERN\n")
		default:
			fmt.Fprintf(w, "type %d\n", e.Type)
		}
	}
	return err
}

// writeCPUData is mach -c: each cpu's per-cpu cpu_info (cpu_data before
// 2.6.30 as an array; boot_cpu_data alone on a uniprocessor kernel), as
// crash's dump_struct prints a struct cpuinfo_x86.
func writeCPUData(s *Session, w *bufio.Writer, radix int) error {
	t, err := s.Types()
	if err != nil {
		return err
	}
	sys, err := s.Sys(s.Ctx())
	if err != nil {
		return err
	}
	if radix == 0 {
		radix = s.Settings().outputRadix()
	}
	at := func(cpu int) (uint64, error) {
		if a, ok := s.Vmlinux.Lookup("cpu_info"); ok {
			off, err := s.Kernel.PerCPUOffset(cpu)
			return a + off, err
		}
		return 0, errors.New("cpu_info: symbol does not exist")
	}
	cpus := sys.CPUs
	boot := false
	if _, ok := s.Vmlinux.Lookup("cpu_info"); !ok {
		a, ok := s.Vmlinux.Lookup("boot_cpu_data")
		if !ok {
			return errors.New("neither cpu_info nor boot_cpu_data exist in this kernel")
		}
		boot, cpus = true, 1
		at = func(int) (uint64, error) { return a, nil }
	}
	for cpu := 0; cpu < cpus; cpu++ {
		if boot {
			w.WriteString("BOOT CPU:\n")
		} else {
			if cpu > 0 {
				w.WriteString("\n")
			}
			fmt.Fprintf(w, "CPU %d:\n", cpu)
		}
		addr, err := at(cpu)
		if err != nil {
			return err
		}
		obj, err := t.Object(s.Mem, addr, "cpuinfo_x86")
		if err != nil {
			return err
		}
		if err := s.FormatObject(w, obj, radix == 16); err != nil {
			return err
		}
	}
	return nil
}
