package commands

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

func init() {
	register(Command{
		Name:     "dev",
		Summary:  "device data",
		Synopsis: "[-i | -p | -d | -D ] [-V | -v index [file]]",
		Description: `  This command displays device data. gocrash has the I/O port and I/O
  memory resource trees (-i); the character and block device tables, PCI
  and disk I/O statistics are not in gocrash yet.`,
		Flags: []Flag{
			{Name: "i", Help: "the I/O port and I/O memory resource trees (ioport_resource, iomem_resource): each struct resource, its range and name, children below their parent."},
			{Name: "p", Help: "PCI device data (not in gocrash yet)."},
			{Name: "d", Help: "disk I/O statistics (not in gocrash yet)."},
			{Name: "D", Help: "disk I/O statistics of the disks with I/O in progress (not in gocrash yet)."},
			{Name: "V", Help: "the vmcore's device dumps (not in gocrash yet)."},
			{Name: "v", Arg: "index", Help: "one device dump of the vmcore (not in gocrash yet)."},
		},
		Examples: `  The I/O ports and memory of the sample dump:

    crash> dev -i
        RESOURCE        RANGE    NAME
    ffffffff96233780  0000-ffff  PCI IO
    ff18cf44008879e0  0000-0cf7  PCI Bus 0000:00
    ffffffff9622edc0  0000-001f  dma1`,
		Run: runDev,
	})
}

func runDev(s *Session, args []string, w io.Writer) error {
	io_ := false
	g := parseFlags("dev", args)
	for g.next() {
		switch g.flag {
		case "i":
			io_ = true
		default:
			return fmt.Errorf("dev -%s is not in gocrash yet", g.flag)
		}
	}
	if g.err != nil {
		return g.err
	}
	if !io_ {
		return fmt.Errorf("the character and block device tables (dev without options) are not in gocrash yet; dev -i shows the I/O resources")
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
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
