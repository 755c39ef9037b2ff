package commands

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"gocrash/kernel"
)

func init() {
	register(Command{
		Name:     "dev",
		Summary:  "device data",
		Synopsis: "[-i | -p | -d | -D ] [-V | -v index [file]]",
		Description: `  With no argument, this command displays the character devices (chrdevs[]:
  each registered major, its name, its struct cdev and the cdev's
  file_operations) and the block devices (major_names[]: each major, its
  name, the first struct gendisk of that major and its
  block_device_operations).`,
		Flags: []Flag{
			{Name: "i", Help: "the I/O port and I/O memory resource trees (ioport_resource, iomem_resource): each struct resource, its range and name, children below their parent."},
			{Name: "p", Help: "the PCI buses (pci_root_buses and their children) and the struct pci_dev of each device: its bus:slot.function, class, vendor:device and PCIe port type."},
			{Name: "d", Help: "each disk (the block class's gendisks, ram and loop devices left out): its gendisk, request_queue, and the requests in flight (TOTAL, READ, WRITE) — for blk-mq the hardware tags' requests in state MQ_RQ_IN_FLIGHT; the hung-task evidence of a stuck disk."},
			{Name: "D", Help: "as -d, only the disks with requests in flight."},
			{Name: "V", Help: "the device dumps of the vmcore (NT_VMCOREDD notes, from drivers' vmcoredd data): crash's \"no device dumps found\" when it has none; gocrash does not read them."},
			{Name: "v", Arg: "index", Help: "one device dump of the vmcore, written to a file (not read by gocrash)."},
		},
		Examples: `  The character and block devices of the sample dump:

    crash> dev
    CHRDEV    NAME                 CDEV        OPERATIONS
       1      mem            ff42bab5008cf700  memory_fops
       2      pty            ff42bab50089d800  tty_fops
    ...
    BLKDEV    NAME                GENDISK      OPERATIONS
     259      blkext              (none)
     254      virtblk        ff42bab5018af000  virtblk_fops

  The disks and their requests in flight:

    crash> dev -d
    MAJOR GENDISK            NAME       REQUEST_QUEUE      TOTAL  READ WRITE
      254 ff42bab501861000   vda        ff42bab50184c000       0     0     0
    ...

  The PCI devices:

    crash> dev -p
        ROOT BUS     BUSNAME
    ff42bab50088b400 0000:00
          PCI DEV      DO:BU:SL.FN  CLASS   PCI_ID      TYPE
      ff42bab500931000 0000:00:00.0  0600  8086:1237  ENDPOINT
    ...

  The I/O ports and memory:

    crash> dev -i
        RESOURCE        RANGE    NAME
    ffffffff8d833800  0000-ffff  PCI IO
    ff42bab50091e020  0000-0cf7  PCI Bus 0000:00
    ffffffff8d82ee40  0000-001f  dma1
    ...`,
		Run: runDev,
	})
}

func runDev(s *Session, args []string, w io.Writer) error {
	g := parseFlags("dev", args)
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	index := false
	// crash acts on the first of -d, -D, -i, -p, -V it meets.
	for g.next() {
		switch g.flag {
		case "i":
			return writeResources(s, bw)
		case "d", "D":
			return writeDiskIO(s, bw, g.flag == "D")
		case "p":
			return writePCI(s, bw)
		case "V", "v":
			// crash: the device dumps of a kdump ELF or compressed
			// dump (makedumpfile --dump-device); gocrash does not read
			// those notes.
			if g.flag == "V" {
				if !hasDeviceDumps(s) {
					return fmt.Errorf("no device dumps found in this dumpfile")
				}
				return fmt.Errorf("dev -V: the dump's device dump notes are not read by gocrash")
			}
			index = true
		}
	}
	if g.err != nil {
		return g.err
	}
	rest := g.rest()
	if (!index && len(rest) > 0) || len(rest) > 1 {
		return usageErr("dev", "")
	}
	if index {
		if !hasDeviceDumps(s) {
			return fmt.Errorf("no device dumps found in this dumpfile")
		}
		return fmt.Errorf("dev -v: the dump's device dump notes are not read by gocrash")
	}
	if err := writeChrdevs(s, bw); err != nil {
		return err
	}
	bw.WriteString("\n")
	return writeBlkdevs(s, bw)
}

// ntVmcoreDD is NT_VMCOREDD (include/uapi/linux/elf.h): a device dump
// (drivers' vmcoredd data) in the dump's notes.
const ntVmcoreDD = 0x700

func hasDeviceDumps(s *Session) bool {
	for _, n := range s.Dump.Notes() {
		if n.Type == ntVmcoreDD {
			return true
		}
	}
	return false
}

// writeChrdevs is crash's dump_chrdevs.
func writeChrdevs(s *Session, w *bufio.Writer) error {
	devs, err := s.CharDevices(s.Ctx())
	fmt.Fprintf(w, "CHRDEV    NAME           %s  %-16s\n", center("CDEV", 16, false), "OPERATIONS")
	sym := s.symstrAll()
	for _, d := range devs {
		fmt.Fprintf(w, " %3d      %-13s ", d.Major, d.Name)
		if d.Fops == 0 {
			fmt.Fprintf(w, " %s\n", center("(none)", 16, false))
			continue
		}
		fmt.Fprintf(w, " %16x  %s\n", d.Cdev, opsName(sym, d.Fops))
	}
	return err
}

// opsName is dev's OPERATIONS: the operations' symbol, else their
// address.
func opsName(sym func(uint64) string, fops uint64) string {
	if name := sym(fops); name != "" {
		return name
	}
	return fmt.Sprintf("%x", fops)
}

// writeBlkdevs is crash's dump_blkdevs_v3.
func writeBlkdevs(s *Session, w *bufio.Writer) error {
	devs, err := s.BlockDevices(s.Ctx())
	fmt.Fprintf(w, "BLKDEV    NAME           %s  %-16s\n", center("GENDISK", 16, true), "OPERATIONS")
	sym := s.symstrAll()
	for _, d := range devs {
		name := d.Name
		if name == "" {
			name = "(unknown)"
		}
		fmt.Fprintf(w, " %3d      %-13s ", d.Major, name)
		if d.Fops == 0 {
			fmt.Fprintf(w, " %s\n", center("(none)", 16, false))
			continue
		}
		fmt.Fprintf(w, " %16x  %s\n", d.Gendisk, opsName(sym, d.Fops))
	}
	return err
}

// writeDiskIO is crash's display_all_diskio: ram and loop disks are left
// out (is_skipped_disk); with nonzero (-D) the disks without requests in
// flight too. No current kernel has request_queue.in_flight, so crash's
// DRV column does not appear.
func writeDiskIO(s *Session, w *bufio.Writer, nonzero bool) error {
	disks, err := s.Disks(s.Ctx())
	// crash labels the two counts ASYNC and SYNC where the kernel has
	// enum BLK_RW_SYNC (before 5.18), READ and WRITE after.
	rd, wr := "READ", "WRITE"
	if t, terr := s.Types(); terr == nil {
		if _, e := t.Enumerator("BLK_RW_SYNC"); e == nil {
			rd, wr = "ASYNC", "SYNC"
		}
	}
	fmt.Fprintf(w, "MAJOR %-18s NAME       %-18s TOTAL %5s %5s \n", "GENDISK", "REQUEST_QUEUE", rd, wr)
	for _, d := range disks {
		if strings.HasPrefix(d.Name, "ram") || strings.HasPrefix(d.Name, "loop") {
			continue
		}
		if nonzero && d.Read+d.Write == 0 {
			continue
		}
		fmt.Fprintf(w, "%5d %-16x   %-10s %-16x   %5d %5d %5d \n", d.Major, d.Gendisk, d.Name, d.Queue, d.Read+d.Write, d.Read, d.Write)
	}
	return err
}

// writePCI is crash's do_pci2.
func writePCI(s *Session, w *bufio.Writer) error {
	roots, err := s.PCIRootBuses(s.Ctx())
	for _, b := range roots {
		fmt.Fprintf(w, "%s %s\n", center("ROOT BUS", 16, false), center("BUSNAME", 7, false))
		fmt.Fprintf(w, "%-16x %s\n", b.Addr, center(b.Name, 7, false))
		writePCIDevices(w, &b)
		writePCIBuses(w, b.Children)
		w.WriteString("\n")
	}
	return err
}

func writePCIBuses(w *bufio.Writer, buses []kernel.PCIBus) {
	for _, b := range buses {
		fmt.Fprintf(w, "  %s %s\n", center("PCI BUS", 16, false), center("PARENT BUS", 16, false))
		fmt.Fprintf(w, "  %-16x %-16x\n", b.Addr, b.Parent)
		writePCIDevices(w, &b)
		w.WriteString("\n")
		writePCIBuses(w, b.Children)
	}
}

// writePCIDevices is crash's walk_devices: a bus's bridge (self), then its
// devices.
func writePCIDevices(w *bufio.Writer, b *kernel.PCIBus) {
	hdr := fmt.Sprintf("%s %s %s %s", center("PCI DEV", 16, false), center("DO:BU:SL.FN", 12, false), center("CLASS", 6, false), center("PCI_ID", 9, false))
	if b.HasPCIe {
		hdr += " " + center("TYPE", 10, false)
	}
	fmt.Fprintf(w, "  %s\n", hdr)
	one := func(d *kernel.PCIDevice) {
		fmt.Fprintf(w, "  %-16x %s %s %s %s\n", d.Addr, center(d.Name, 12, false), center(fmt.Sprintf("%04x", d.Class>>8), 6, false),
			center(fmt.Sprintf("%x:%x", d.Vendor, d.Device), 9, false), center(pcieType(d), 10, false))
	}
	if b.Self != nil {
		one(b.Self)
	}
	for i := range b.Devices {
		one(&b.Devices[i])
	}
}

// pcieType is crash's fill_pcie_type: the PCIe port type of the
// capability flags (PCI_EXP_FLAGS_TYPE, include/uapi/linux/pci_regs.h),
// and " [BRIDGE]" for a PCI-to-PCI or CardBus bridge header.
func pcieType(d *kernel.PCIDevice) string {
	t := ""
	if d.HasPCIe {
		switch (d.PCIeCaps & 0xf0) >> 4 {
		case 0x0:
			t = "ENDPOINT"
		case 0x1:
			t = "LEG_END"
		case 0x4:
			t = "ROOT_PORT"
		case 0x5:
			t = "UPSTREAM"
		case 0x6:
			t = "DOWNSTREAM"
		case 0x7:
			t = "PCI_BRIDGE"
		case 0x8:
			t = "PCIE_BRIDGE"
		case 0x9:
			t = "RC_END"
		case 0xa:
			t = "RC_EC"
		}
	}
	if h := d.HdrType; h == 1 || h == 2 {
		t += " [BRIDGE]"
	}
	return t
}

// symstrAll is crash's value_to_symstr over vmlinux and module symbols
// (module data too, as crash's value_search): "name" or "name+off".
func (s *Session) symstrAll() func(uint64) string {
	sym := s.symbolizer()
	var st *symTable
	modsRead := false
	return func(v uint64) string {
		if sym != nil {
			if n := sym(v); n != "" {
				return n
			}
		}
		// the modules' tables as crash builds them (value_search_module:
		// core and init before 6.4, every memory type since)
		if !modsRead {
			modsRead = true
			st = s.symTable()
		}
		if m := st.moduleOf(v); m >= 0 {
			if r, off, ok := st.search(v); ok {
				name, _, _ := st.sym(r)
				if off != 0 {
					return fmt.Sprintf("%s+%d", name, off)
				}
				return name
			}
		}
		return ""
	}
}

// writeResources is dev -i: crash's do_io.
func writeResources(s *Session, bw *bufio.Writer) error {
	for i, sym := range []string{"ioport_resource", "iomem_resource"} {
		root, ok := s.Vmlinux.Lookup(sym)
		if !ok {
			return nil
		}
		list, err := s.Resources(s.Ctx(), root)
		if err != nil && len(list) == 0 {
			return err
		}
		size := 4
		if len(list) > 0 && list[0].End > 0xffff {
			size = 8
		}
		if i > 0 {
			bw.WriteString("\n")
		}
		fmt.Fprintf(bw, "%s  %s  NAME\n", center("RESOURCE", 16, false), center("RANGE", size*2+1, false))
		wrap := 16 + 2 + size*2 + 1 + 2
		for _, r := range list {
			name := "(unknown)"
			if r.NameOK {
				name = r.Name
			}
			fmt.Fprintf(bw, "%8x  %0*x-%0*x", r.Addr, size, r.Start, size, r.End)
			if wrap+len(name) <= 80 {
				fmt.Fprintf(bw, "  %s\n", name)
				continue
			}
			// crash breaks a long name at the last blank that leaves
			// the line within 80 columns.
			over := wrap + len(name) - 80
			cut := -1
			for c, p := 0, len(name)-1; p > 0; p, c = p-1, c+1 {
				if name[p] == ' ' && c >= over {
					cut = p
					break
				}
			}
			if cut < 0 {
				fmt.Fprintf(bw, "  %s\n", name)
				continue
			}
			fmt.Fprintf(bw, "  %s\n%s%s\n", name[:cut], strings.Repeat(" ", wrap), name[cut+1:])
		}
		if err != nil {
			return err
		}
	}
	return nil
}
