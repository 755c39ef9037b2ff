package kernel

import (
	"context"
	"errors"
	"fmt"
)

// The network device walker: the net_device list of a task's network
// namespace (net->dev_base_head) with each device's IPv4 addresses
// (in_device->ifa_list) and IPv6 addresses (inet6_dev->addr_list), as
// crash's net.c show_net_devices_v3() reads them. Layouts:
// include/linux/netdevice.h, include/linux/inetdevice.h, include/net/if_inet6.h.

// A NetDevice is one struct net_device.
type NetDevice struct {
	Addr uint64
	Name string
	IPv4 [][4]byte
	IPv6 [][16]byte
}

// maxNetAddrs bounds an address list walk.
const maxNetAddrs = 1 << 16

// NetDevices lists the devices of task's network namespace
// (task->nsproxy->net_ns; init_net when the kernel has no nsproxy.net_ns).
func (k *Kernel) NetDevices(ctx context.Context, task uint64) ([]NetDevice, error) {
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	var ns uint64
	if r.has("nsproxy.net_ns") {
		nsproxy, err := r.ptr(task, "task_struct.nsproxy")
		if err != nil {
			return nil, err
		}
		if ns, err = r.ptr(nsproxy, "nsproxy.net_ns"); err != nil {
			return nil, errors.New("cannot determine net_namespace location!")
		}
	} else {
		a, ok := k.Vmlinux.Lookup("init_net")
		if !ok {
			return nil, errors.New("no init_net symbol")
		}
		ns = a
	}
	head, err := r.off("net.dev_base_head")
	if err != nil {
		return nil, err
	}
	listOff, err := r.off("net_device.dev_list")
	if err != nil {
		return nil, err
	}
	var devs []NetDevice
	err = WalkList(ctx, r.mem, ns+head, "net.dev_base_head", func(node uint64) error {
		d, err := netDevice(ctx, r, node-listOff)
		if err != nil {
			return err
		}
		devs = append(devs, d)
		return nil
	})
	return devs, err
}

func netDevice(ctx context.Context, r *reader, dev uint64) (NetDevice, error) {
	d := NetDevice{Addr: dev}
	nameOff, err := r.off("net_device.name")
	if err != nil {
		return d, err
	}
	n, err := r.sizeOf("net_device.name")
	if err != nil {
		return d, err
	}
	b, err := r.read(dev+nameOff, int(n), "net_device name")
	if err != nil {
		return d, err
	}
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	d.Name = string(b)
	ip, err := r.ptr(dev, "net_device.ip_ptr")
	if err != nil {
		return d, err
	}
	if ip != 0 {
		ifa, err := r.ptr(ip, "in_device.ifa_list")
		if err != nil {
			return d, err
		}
		seen := map[uint64]bool{}
		for ifa != 0 {
			if err := ctx.Err(); err != nil {
				return d, err
			}
			if seen[ifa] || len(seen) >= maxNetAddrs {
				return d, fmt.Errorf("net_device %x: the ifa_list loops at %x", dev, ifa)
			}
			seen[ifa] = true
			off, err := r.off("in_ifaddr.ifa_address")
			if err != nil {
				return d, err
			}
			a, err := r.read(ifa+off, 4, "ifa_address")
			if err != nil {
				return d, err
			}
			d.IPv4 = append(d.IPv4, [4]byte(a))
			if ifa, err = r.ptr(ifa, "in_ifaddr.ifa_next"); err != nil {
				return d, err
			}
		}
	}
	ip6, err := r.ptr(dev, "net_device.ip6_ptr")
	if err != nil || ip6 == 0 {
		return d, err
	}
	alist, err := r.off("inet6_dev.addr_list")
	if err != nil {
		return d, err
	}
	ifl, err := r.off("inet6_ifaddr.if_list")
	if err != nil {
		return d, err
	}
	aoff, err := r.off("inet6_ifaddr.addr")
	if err != nil {
		return d, err
	}
	err = WalkList(ctx, r.mem, ip6+alist, "inet6_dev.addr_list", func(node uint64) error {
		if len(d.IPv6) >= maxNetAddrs {
			return fmt.Errorf("net_device %x: more than %d IPv6 addresses", dev, maxNetAddrs)
		}
		a, err := r.read(node-ifl+aoff, 16, "in6_addr")
		if err != nil {
			return err
		}
		d.IPv6 = append(d.IPv6, [16]byte(a))
		return nil
	})
	return d, err
}

// A Neighbour is one entry of the ARP cache (arp_tbl's neigh_hash_table:
// include/net/neighbour.h), as crash's net -a reads it (net.c dump_arp(),
// print_neighbour_q(), get_netdev_info()).
type Neighbour struct {
	Addr     uint64
	IP       [4]byte // primary_key
	HW       []byte  // ha, the device's addr_len bytes
	DevName  string
	DevType  uint16 // net_device.type (ARPHRD_*)
	NUDState uint8
}

// maxNeighbours bounds the ARP cache walk over hostile memory.
const maxNeighbours = 1 << 20

// ARPCache lists arp_tbl's entries bucket by bucket, each chain in order.
func (k *Kernel) ARPCache(ctx context.Context) ([]Neighbour, error) {
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	tbl, ok := k.Vmlinux.Lookup("arp_tbl")
	if !ok {
		return nil, errors.New("arp_tbl does not exist in this kernel")
	}
	nht, err := r.ptr(tbl, "neigh_table.nht")
	if err != nil {
		return nil, err
	}
	var nbuckets uint64
	if r.has("neigh_hash_table.hash_mask") {
		m, err := r.member(nht, "neigh_hash_table.hash_mask", 4)
		if err != nil {
			return nil, err
		}
		nbuckets = m + 1
	} else {
		sh, err := r.member(nht, "neigh_hash_table.hash_shift", 4)
		if err != nil {
			return nil, err
		}
		if sh > 24 {
			return nil, fmt.Errorf("neigh_hash_table %x: hash_shift %d", nht, sh)
		}
		nbuckets = 1 << sh
	}
	buckets, err := r.ptr(nht, "neigh_hash_table.hash_buckets")
	if err != nil {
		return nil, err
	}
	haLen, err := r.sizeOf("neighbour.ha")
	if err != nil {
		return nil, err
	}
	var out []Neighbour
	for i := uint64(0); i < nbuckets; i++ {
		n, err := r.word(buckets+8*i, "neigh_hash_table hash_buckets")
		if err != nil {
			return out, err
		}
		for ; n != 0; n, err = r.ptr(n, "neighbour.next") {
			if err != nil {
				return out, err
			}
			if err := ctx.Err(); err != nil {
				return out, err
			}
			if len(out) >= maxNeighbours {
				return out, fmt.Errorf("arp_tbl: more than %d neighbours", maxNeighbours)
			}
			nb := Neighbour{Addr: n}
			key, err := r.member(n, "neighbour.primary_key", 4)
			if err != nil {
				return out, err
			}
			nb.IP = [4]byte{byte(key), byte(key >> 8), byte(key >> 16), byte(key >> 24)}
			o, err := r.off("neighbour.ha")
			if err != nil {
				return out, err
			}
			ha, err := r.read(n+o, int(haLen), "neighbour ha")
			if err != nil {
				return out, err
			}
			dev, err := r.ptr(n, "neighbour.dev")
			if err != nil {
				return out, err
			}
			typ, err := r.member(dev, "net_device.type", 2)
			if err != nil {
				return out, err
			}
			alen, err := r.member(dev, "net_device.addr_len", 1)
			if err != nil {
				return out, err
			}
			if int(alen) < len(ha) {
				ha = ha[:alen]
			}
			no, err := r.off("net_device.name")
			if err != nil {
				return out, err
			}
			if nb.DevName, err = r.cstring(dev+no, 16); err != nil {
				return out, err
			}
			st, err := r.member(n, "neighbour.nud_state", 1)
			if err != nil {
				return out, err
			}
			nb.HW, nb.DevType, nb.NUDState = ha, uint16(typ), uint8(st)
			out = append(out, nb)
		}
	}
	return out, nil
}
