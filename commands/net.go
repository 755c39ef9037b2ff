package commands

// net: the network devices of a network namespace and their addresses,
// the sockets of tasks (crash's net.c cmd_net(), show_net_devices_v3(),
// dump_sockets(), dump_sockets_workhorse(), sym_socket_dump(),
// get_sock_info()).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"gocrash/kernel"
)

func init() {
	register(Command{
		Name:     "net",
		Summary:  "network command",
		Synopsis: "[[-s | -S] [-xd] [-R ref] [pid | task]] [-a] [ -n [pid | task]] [-N addr]",
		Description: `  Displays various network related data.

  If no arguments are entered, the list of network devices, names and IP
  addresses are displayed.  For kernels supporting namespaces, the -n option
  may be used to display the list of network devices with respect to the
  network namespace of a current context or a task specified by pid or task.

  The -s and -S options display data with respect to the current context, but
  may be appended with an argument to show the socket data with respect
  to a specified task.

  The -R option, typically invoked from "foreach net", and in conjunction
  with the -s or -S options, searches for references to a socket address,
  sock address, or a file descriptor; if found, only the referenced fd, socket
  or sock data will be displayed.`,
		Flags: []Flag{
			{Name: "n", Help: "the network devices of the namespace of the current context, or of the task given by pid or task."},
			{Name: "s", Help: "display open network socket/sock addresses, their family and type, and for INET and INET6 families, their source and destination addresses and ports; of the current context, or of the tasks given."},
			{Name: "S", Help: "displays open network socket/sock addresses followed by a dump of both data structures."},
			{Name: "R", Arg: "ref", Help: "socket or sock address, or file descriptor."},
			{Name: "a", Help: "display the ARP cache."},
			{Name: "N", Arg: "addr", Help: "translates an IPv4 address expressed as a decimal or hexadecimal value into a standard numbers-and-dots notation."},
			{Name: "x", Help: "override default output format with hexadecimal format."},
			{Name: "d", Help: "override default output format with decimal format."},
		},
		Operands: []Operand{
			{"pid", "a process PID."},
			{"task", "a hexadecimal task_struct pointer."},
		},
		Examples: `  Display the network devices:

    crash> net
       NET_DEVICE     NAME       IP ADDRESS(ES)
    ff42bab500190800  lo         127.0.0.1

  The sockets of the synflood task (PID 80 on the sample dump):

    crash> net -s 80
    PID: 80       TASK: ff42bab50195bf00  CPU: 0    COMMAND: "synflood"
    FD      SOCKET            SOCK       FAMILY:TYPE SOURCE-PORT DESTINATION-PORT
     3 ff42bab500425200 ff42bab501940000 INET:STREAM  127.0.0.1-7777 0.0.0.0-0
     4 ff42bab500425500 ff42bab501940880 INET:STREAM  127.0.0.1-34534 127.0.0.1-7777
    ...

  The ARP cache:

    crash> net -a
    NEIGHBOUR        IP ADDRESS      HW TYPE    HW ADDRESS         DEVICE  STATE
    ff42bab50096fc00 0.0.0.0         UNKNOWN    00 00 00 00 00 00  lo      NOARP

  Which task holds socket file descriptor 3:

    crash> foreach net -s -R 3

  Translate an IPv4 address:

    crash> net -N 16777343
    127.0.0.1`,
		Columns: []Column{
			{"NET_DEVICE", "the struct net_device, on the namespace's dev_base_head list"},
			{"NAME", "net_device.name"},
			{"IP ADDRESS(ES)", "the in_device's ifa_list addresses, then the inet6_dev's addr_list addresses"},
			{"SOCKET, SOCK", "(-s) the struct socket before the file's inode (socket_alloc), and its sk"},
			{"FAMILY:TYPE", "(-s) sk_family and sk_type"},
			{"SOURCE-PORT DESTINATION-PORT", "(-s) skc_rcv_saddr-inet_sport and skc_daddr-skc_dport for INET sockets; the skc_v6 addresses for INET6"},
		},
		Run: runNet,
	})
	foreachKeywords["net"] = foreachCommand{start: foreachNet}
}

// net -s/-S modes (crash's s_FLAG, S_FLAG).
const (
	netSockets = 1 + iota
	netStructs
)

func runNet(s *Session, args []string, w io.Writer) error {
	var (
		mode, radix int
		ref         string
		refs        int
		nflag       bool
		nTask       uint64
		aflag       bool
	)
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	swapper := tt.byPID(0) // crash: pid_to_task(0)
	if swapper == nil {
		return errors.New("no pid 0 task")
	}
	task := swapper.Addr
	g := parseFlags("net", args)
	for g.next() {
		switch g.flag {
		case "R":
			if refs++; refs > 1 {
				fmt.Fprintf(w, "net: only one -R option allowed\n")
				continue
			}
			ref = g.val
		case "a":
			if err := s.netARP(w); err != nil {
				return err
			}
			aflag = true
		case "N":
			v, ok := parseStol(g.val)
			if !ok {
				return fmt.Errorf("invalid expression: %s", g.val)
			}
			b := [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
			_, err := fmt.Fprintf(w, "%s\n", netip.AddrFrom4(b))
			return err
		case "s", "S":
			m := netSockets
			if g.flag == "S" {
				m = netStructs
			}
			if mode != 0 && mode != m {
				fmt.Fprintf(w, "net: only one -s or -S option allowed\n")
				continue
			}
			mode = m
		case "x":
			if err := setRadix(&radix, 16); err != nil {
				return err
			}
		case "d":
			if err := setRadix(&radix, 10); err != nil {
				return err
			}
		case "n":
			nflag = true
			ctx, err := s.Context()
			if err != nil {
				return err
			}
			nTask = ctx
			// crash looks at args[optind]: the word after -n's.
			i := g.g.i
			if g.g.j >= len(g.g.args[i]) {
				i++
			}
			if i < len(g.g.args) {
				a := g.g.args[i]
				pid, t, ok := tt.strToContext(a)
				if !ok {
					return fmt.Errorf("invalid task or pid value: %s", a)
				}
				if p := tt.byPID(pid); t == 0 && p != nil {
					t = p.Addr
				}
				nTask = t
			}
		}
	}
	if g.err != nil {
		return g.err
	}
	if mode != 0 {
		r := &netRun{s: s, w: w, mode: mode, radix: radix, ref: ref}
		return r.sockets(tt, g.rest())
	}
	if nflag {
		task = nTask
	} else if len(args) != 0 {
		if aflag {
			return nil
		}
		return &UsageError{Cmd: "net"}
	}
	return s.netDevices(w, task)
}

// parseStol is crash's stol(): a decimal number, or hexadecimal with
// "0x" or with hexadecimal letters.
func parseStol(a string) (uint64, bool) {
	if v, ok := parseDec(a); ok {
		return uint64(v), true
	}
	v, err := parseHex(a)
	return v, err == nil
}

// netDevices is crash's show_net_devices() for task's namespace.
func (s *Session) netDevices(w io.Writer, task uint64) error {
	devs, err := s.NetDevices(s.Ctx(), task)
	var b strings.Builder
	b.WriteString(center("NET_DEVICE", 16, false) + "  NAME       IP ADDRESS(ES)\n")
	for _, d := range devs {
		fmt.Fprintf(&b, "%s  %-10s %s\n", center(strconv.FormatUint(d.Addr, 16), 16, true), d.Name, strings.Join(netAddrs(d), ", "))
	}
	io.WriteString(w, b.String())
	return err
}

// netAddrs is net's IP ADDRESS(ES): the IPv4 addresses, then the IPv6.
func netAddrs(d kernel.NetDevice) []string {
	addrs := []string{}
	for _, a := range d.IPv4 {
		addrs = append(addrs, netip.AddrFrom4(a).String())
	}
	for _, a := range d.IPv6 {
		addrs = append(addrs, netip.AddrFrom16(a).String())
	}
	return addrs
}

// netRun is one net -s/-S (or foreach net).
type netRun struct {
	s     *Session
	w     io.Writer
	mode  int
	radix int
	ref   string
}

// sockets is crash's dump_sockets(): the current context, or each task
// named.
func (r *netRun) sockets(tt *taskTable, rest []string) error {
	return tt.eachTaskArg(r.s, r.w, "net", rest, r.ref == "", r.task)
}

// socketHeader is crash's socket_hdr_64.
const socketHeader = "FD      SOCKET            SOCK       FAMILY:TYPE SOURCE-PORT DESTINATION-PORT"

// task is crash's dump_sockets_workhorse() for one task.
func (r *netRun) task(t *Task) error {
	s := r.s
	ts, err := s.TaskSockets(s.Ctx(), t.Addr)
	if ts == nil {
		return err
	}
	w := bufio.NewWriter(r.w)
	defer w.Flush()
	if !ts.HasTable && err == nil {
		if r.ref == "" {
			w.WriteString("No open sockets.\n")
		}
		return nil
	}
	// -R: a socket or sock address, or a descriptor (decimal when it
	// is one below max_fds, crash's NET_REF_DECNUM).
	var hex, dec uint64
	isHex, isDec := false, false
	if r.ref != "" && isNumber(r.ref) {
		if d, ok := parseDec(r.ref); ok && !hexOnly(r.ref) && uint64(d) <= ts.MaxFDs {
			dec, isDec = uint64(d), true
		} else {
			hex, _ = parseTaskHex(r.ref)
			isHex = true
		}
	}
	found := 0
	refFound := false
	for i := range ts.Sockets {
		so := &ts.Sockets[i]
		if r.ref != "" {
			if !(isHex && (hex == so.Sock || hex == so.Socket || hex == uint64(so.FD)) || isDec && dec == uint64(so.FD)) {
				continue
			}
			if !refFound {
				w.WriteString(taskHeader(t))
				refFound = true
				found = 0
			}
		}
		if err := r.socket(w, so, found); err != nil {
			return err
		}
		found++
	}
	if found == 0 && r.ref == "" {
		w.WriteString("No open sockets.\n")
	}
	if refFound {
		w.WriteString("\n")
	}
	return err
}

// socket is sym_socket_dump() for one socket; n is how many were shown
// before it.
func (r *netRun) socket(w *bufio.Writer, so *kernel.Socket, n int) error {
	if r.mode == netStructs {
		if n > 0 {
			w.WriteString("\n")
		}
		fmt.Fprintf(w, "FD  %s  %s\n", center("SOCKET", 16, false), center("SOCK", 16, false))
		fmt.Fprintf(w, "%2d  %16x  %16x\n\n", so.FD, so.Socket, so.Sock)
		t, err := r.s.Types()
		if err != nil {
			return err
		}
		for _, st := range []struct {
			addr uint64
			typ  string
		}{{so.Socket, "socket"}, {so.Sock, "inet_sock"}} {
			obj, err := t.Object(r.s.Mem, st.addr, st.typ)
			if err != nil {
				return err
			}
			if err := r.s.FormatObject(w, obj, r.radix == 16); err != nil {
				return err
			}
		}
		return nil
	}
	if n == 0 {
		w.WriteString(socketHeader + "\n")
	}
	fmt.Fprintf(w, "%2d %16x %16x %s\n", so.FD, so.Socket, so.Sock, sockInfo(so))
	return nil
}

// sockFamilies are get_sock_info()'s names of the address families
// (include/linux/socket.h AF_*).
var sockFamilies = map[uint16]string{
	0: "UNSPEC", 1: "UNIX", 2: "INET", 3: "AX25", 4: "IPX", 5: "APPLETALK",
	6: "NETROM", 7: "BRIDGE", 8: "ATMPVC", 9: "X25", 10: "INET6", 11: "ROSE",
	12: "DECnet", 13: "NETBEUI", 14: "SECURITY/KEY", 16: "NETLINK/ROUTE",
	17: "PACKET", 18: "ASH", 19: "ECONET", 20: "ATMSVC", 22: "SNA", 23: "IRDA",
	24: "PPPOX",
}

// sockTypes are get_sock_info()'s names of the socket types
// (include/linux/net.h SOCK_*).
var sockTypes = map[uint16]string{
	1: "STREAM", 2: "DGRAM ", 3: "RAW", 4: "RDM", 5: "SEQPACKET", 10: "PACKET",
}

// sockInfo is crash's get_sock_info(): FAMILY:TYPE and, for INET and
// INET6, the source and destination address-port pairs.
func sockInfo(so *kernel.Socket) string {
	var b strings.Builder
	if f, ok := sockFamilies[so.Family]; ok {
		b.WriteString(f + ":")
	} else {
		fmt.Fprintf(&b, "%d:", so.Family)
	}
	if t, ok := sockTypes[so.Type]; ok {
		b.WriteString(t)
	} else {
		fmt.Fprintf(&b, "%d", so.Type)
	}
	b.WriteString(" ")
	switch so.Family {
	case kernel.AFInet:
		fmt.Fprintf(&b, " %s-%d ", netip.AddrFrom4(so.RcvSaddr), so.Sport)
		fmt.Fprintf(&b, "%s-%d", netip.AddrFrom4(so.Daddr), so.Dport)
	case kernel.AFInet6:
		if !so.V6 {
			b.WriteString(so.V6Reason)
			break
		}
		src := in6AddrPort(so.V6Saddr, so.Sport)
		fmt.Fprintf(&b, "%12s ", src)
		b.WriteString(centerIn(in6AddrPort(so.V6Daddr, so.Dport), len(src)))
	}
	return b.String()
}

// in6AddrPort is crash's dump_in6_addr_port(): eight hexadecimal groups,
// uncompressed, then "-port".
func in6AddrPort(a [16]byte, port uint16) string {
	var g [8]string
	for i := range g {
		g[i] = strconv.FormatUint(uint64(a[2*i])<<8|uint64(a[2*i+1]), 16)
	}
	return strings.Join(g[:], ":") + "-" + strconv.Itoa(int(port))
}

// centerIn is crash's mkstring(s, width, CENTER): s centred in width
// (the extra blank on the right), s itself when it is wider.
func centerIn(s string, width int) string { return center(s, width, false) }

// foreachNet is foreach's net keyword: -s (the default, with a warning)
// or -S for each task, -R as net's.
func foreachNet(s *Session, f *foreachSpec, tt *taskTable, w io.Writer) (foreachRunner, error) {
	mode := netSockets
	switch {
	case f.has('s') && f.has('S'):
		fmt.Fprintf(w, "WARNING: net -s and -S options are mutually exclusive!\n")
	case f.has('S'):
		mode = netStructs
	case !f.has('s'):
		fmt.Fprintf(w, "WARNING: net command requires -s or -S option\n\n")
	}
	if f.has('x') && f.has('d') {
		return foreachRunner{}, errors.New("net: -x and -d options are mutually exclusive")
	}
	r := &netRun{s: s, w: w, mode: mode, ref: f.ref}
	if f.has('x') {
		r.radix = 16
	} else if f.has('d') {
		r.radix = 10
	}
	return foreachRunner{header: f.ref == "", run: r.task}, nil
}

// arpTypes are print_neighbour_q()'s hardware types (include/uapi/linux/
// if_arp.h ARPHRD_*); the Ethernet address is printed with colons.
var arpTypes = map[uint16]string{
	0: "NETROM", 1: "ETHER", 2: "EETHER", 3: "AX25", 4: "PRONET", 5: "CHAOS",
	6: "IEEE802", 7: "ARCNET", 8: "APPLETLK", 15: "DLCI", 23: "METRICOM",
}

// nudNames are arp_state_to_flags()'s NUD_* names, bit 0 first.
var nudNames = []string{"INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED", "NOARP", "PERMANENT"}

// netARP is crash's dump_arp(): the heading when there is an entry, then
// each entry.
func (s *Session) netARP(w io.Writer) error {
	ns, err := s.ARPCache(s.Ctx())
	var b strings.Builder
	if len(ns) > 0 {
		b.WriteString("NEIGHBOUR        IP ADDRESS      HW TYPE    HW ADDRESS         DEVICE  STATE\n")
	}
	for _, n := range ns {
		fmt.Fprintf(&b, "%-16x %-16s", n.Addr, netip.AddrFrom4(n.IP))
		typ, ok := arpTypes[n.DevType]
		if !ok {
			typ = "UNKNOWN"
		}
		fmt.Fprintf(&b, "%-10s ", typ)
		for i, c := range n.HW {
			switch {
			case n.DevType != 1:
				fmt.Fprintf(&b, "%02x ", c)
			case i == len(n.HW)-1:
				fmt.Fprintf(&b, "%02x ", c)
			default:
				fmt.Fprintf(&b, "%02x:", c)
			}
		}
		fmt.Fprintf(&b, " %-6s  ", n.DevName)
		var flags []string
		for i, name := range nudNames {
			if n.NUDState&(1<<i) != 0 {
				flags = append(flags, name)
			}
		}
		if n.NUDState == 0 || len(flags) > 0 {
			b.WriteString(strings.Join(flags, "|") + "\n")
		}
	}
	io.WriteString(w, b.String())
	return err
}
