package kernel

import (
	"context"
	"errors"
	"fmt"
)

// PCI buses and devices (include/linux/pci.h): pci_root_buses lists the
// root buses by struct pci_bus.node; each bus lists its devices by
// struct pci_dev.bus_list and its child buses by pci_bus.node.

// PCIDevice is one struct pci_dev.
type PCIDevice struct {
	Addr     uint64
	Name     string // dev.kobj.name: "0000:00:01.0"
	Vendor   uint16
	Device   uint16
	Class    uint32 // class << 8 | prog-if, as the kernel keeps it
	HdrType  uint8
	PCIeCaps uint16 // pcie_flags_reg (0 for a conventional PCI device)
	HasPCIe  bool   // the kernel has pcie_flags_reg
}

// PCIBus is one struct pci_bus with its devices and child buses.
type PCIBus struct {
	Addr     uint64
	Parent   uint64
	Name     string     // dev.kobj.name: "0000:00"
	Self     *PCIDevice // the bridge leading to this bus; nil for a root bus
	Devices  []PCIDevice
	Children []PCIBus
	HasPCIe  bool // the kernel has pci_dev.pcie_flags_reg (crash's TYPE column)
}

// PCIRootBuses walks pci_root_buses and every bus below, as crash's
// do_pci2 does.
func (k *Kernel) PCIRootBuses(ctx context.Context) ([]PCIBus, error) {
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	a, ok := k.Vmlinux.Lookup("pci_root_buses")
	if !ok {
		return nil, errors.New("pci_root_buses: symbol does not exist")
	}
	first, err := r.word(a, "pci_root_buses")
	if err != nil {
		return nil, err
	}
	if first == a {
		return nil, errors.New("no PCI devices found on this system.")
	}
	w := &pciWalker{k: k, r: r, seen: map[uint64]bool{}}
	return w.buses(ctx, a, 0)
}

type pciWalker struct {
	k    *Kernel
	r    *reader
	seen map[uint64]bool
}

// buses reads the buses of the list at head (pci_root_buses or a bus's
// children), each with its devices and, depth first, its children.
func (w *pciWalker) buses(ctx context.Context, head uint64, depth int) ([]PCIBus, error) {
	if depth > 64 {
		return nil, fmt.Errorf("PCI buses nested more than 64 deep at %x: corrupt", head)
	}
	no, err := w.r.off("pci_bus.node")
	if err != nil {
		return nil, err
	}
	var addrs []uint64
	if err := w.k.WalkList(ctx, head, "PCI bus list", func(n uint64) error {
		addrs = append(addrs, n-no)
		return nil
	}); err != nil {
		return nil, err
	}
	var out []PCIBus
	for _, b := range addrs {
		if w.seen[b] {
			return out, fmt.Errorf("PCI bus %x met twice: corrupt bus lists", b)
		}
		w.seen[b] = true
		bus := PCIBus{Addr: b, HasPCIe: w.r.has("pci_dev.pcie_flags_reg")}
		if bus.Parent, err = w.r.ptr(b, "pci_bus.parent"); err != nil {
			return out, err
		}
		if bus.Name, err = w.kobjName(b, "pci_bus.dev"); err != nil {
			return out, err
		}
		self, err := w.r.ptr(b, "pci_bus.self")
		if err != nil {
			return out, err
		}
		if self != 0 {
			d, err := w.device(self)
			if err != nil {
				return out, err
			}
			bus.Self = &d
		}
		do, err := w.r.off("pci_bus.devices")
		if err != nil {
			return out, err
		}
		lo, err := w.r.off("pci_dev.bus_list")
		if err != nil {
			return out, err
		}
		err = w.k.WalkList(ctx, b+do, "PCI device list", func(n uint64) error {
			d, err := w.device(n - lo)
			if err != nil {
				return err
			}
			bus.Devices = append(bus.Devices, d)
			return nil
		})
		if err != nil {
			out = append(out, bus)
			return out, err
		}
		co, err := w.r.off("pci_bus.children")
		if err != nil {
			return out, err
		}
		bus.Children, err = w.buses(ctx, b+co, depth+1)
		out = append(out, bus)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (w *pciWalker) device(a uint64) (PCIDevice, error) {
	d := PCIDevice{Addr: a}
	var err error
	if d.Name, err = w.kobjName(a, "pci_dev.dev"); err != nil {
		return d, err
	}
	v, err := w.r.member(a, "pci_dev.vendor", 2)
	if err != nil {
		return d, err
	}
	dv, err := w.r.member(a, "pci_dev.device", 2)
	if err != nil {
		return d, err
	}
	c, err := w.r.member(a, "pci_dev.class", 4)
	if err != nil {
		return d, err
	}
	h, err := w.r.member(a, "pci_dev.hdr_type", 1)
	if err != nil {
		return d, err
	}
	d.Vendor, d.Device, d.Class, d.HdrType = uint16(v), uint16(dv), uint32(c), uint8(h)
	if w.r.has("pci_dev.pcie_flags_reg") {
		d.HasPCIe = true
		f, err := w.r.member(a, "pci_dev.pcie_flags_reg", 2)
		if err != nil {
			return d, err
		}
		d.PCIeCaps = uint16(f)
	}
	return d, nil
}

// kobjName is the name of the struct device member path of the object at
// a (its kobj.name).
func (w *pciWalker) kobjName(a uint64, path string) (string, error) {
	o, err := w.r.off(path)
	if err != nil {
		return "", err
	}
	np, err := w.r.ptr(a+o, "device.kobj.name")
	if err != nil {
		return "", err
	}
	if np == 0 {
		return "", nil
	}
	s, _ := w.r.cstring(np, 1024)
	return s, nil
}
