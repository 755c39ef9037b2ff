package commands

// net: the network devices of the kernel's initial network namespace and
// their addresses (crash's net.c cmd_net() without options,
// show_net_devices_v3()).

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

func init() {
	register(Command{
		Name:    "net",
		Summary: "network command",
		// crash's -a, -s, -S, -n, -N, -R, -x and -d are not here.
		Description: `  This command displays the network devices of the initial network
  namespace: the address of each net_device structure, the device name and
  its IPv4 and IPv6 addresses.`,
		Examples: `  Display the network devices:

    crash> net
       NET_DEVICE     NAME       IP ADDRESS(ES)
    ff2c138f00940000  lo         127.0.0.1`,
		Columns: []Column{
			{"NET_DEVICE", "the struct net_device, on init_net's dev_base_head list"},
			{"NAME", "net_device.name"},
			{"IP ADDRESS(ES)", "the in_device's ifa_list addresses, then the inet6_dev's addr_list addresses"},
		},
		Run: runNet,
	})
}

func runNet(s *Session, args []string, w io.Writer) error {
	if len(args) > 0 {
		return &UsageError{Cmd: "net"}
	}
	tt, err := s.taskTable()
	if err != nil {
		return err
	}
	swapper := tt.byPID(0) // crash: pid_to_task(0)
	if swapper == nil {
		return errors.New("no pid 0 task")
	}
	devs, err := s.NetDevices(s.Ctx(), swapper.Addr)
	var b strings.Builder
	b.WriteString(center("NET_DEVICE", 16, false) + "  NAME       IP ADDRESS(ES)\n")
	for _, d := range devs {
		var addrs []string
		for _, a := range d.IPv4 {
			addrs = append(addrs, netip.AddrFrom4(a).String())
		}
		for _, a := range d.IPv6 {
			addrs = append(addrs, netip.AddrFrom16(a).String())
		}
		fmt.Fprintf(&b, "%s  %-10s %s\n", center(strconv.FormatUint(d.Addr, 16), 16, true), d.Name, strings.Join(addrs, ", "))
	}
	io.WriteString(w, b.String())
	return err
}
