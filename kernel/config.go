package kernel

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// The kernel's own configuration (CONFIG_IKCONFIG: kernel/configs.c keeps
// the .config gzipped between the markers "IKCFG_ST" and "IKCFG_ED", the
// data at kernel_config_data) and its DMI strings (dmi_ident[], indexed
// by enum dmi_field, drivers/firmware/dmi_scan.c).

// ErrNoIKConfig says the kernel was built without CONFIG_IKCONFIG.
var ErrNoIKConfig = errors.New("kernel_config_data does not exist in this kernel")

// ikconfigMax bounds the compressed config read (crash doubles its buffer
// up to 512 KB).
const ikconfigMax = 1 << 20

// Config is the text of the kernel's embedded .config.
func (k *Kernel) Config() ([]byte, error) {
	start, ok := k.Vmlinux.Lookup("kernel_config_data")
	if !ok {
		return nil, ErrNoIKConfig
	}
	end, ok := k.Vmlinux.Lookup("kernel_config_data_end")
	size := uint64(32 << 10)
	if ok && end > start && end-start <= ikconfigMax {
		size = end - start
	}
	var data []byte
	for {
		buf := make([]byte, size)
		if err := k.Mem.ReadVirt(buf, start); err != nil {
			return nil, fmt.Errorf("cannot read kernel_config_data at %#x: %w", start, err)
		}
		if i := bytes.Index(buf, []byte("IKCFG_ED")); i >= 0 {
			data = buf[:i]
			break
		}
		if ok && end > start {
			data = buf
			break
		}
		if size >= ikconfigMax {
			return nil, errors.New("could not find MAGIC_END!")
		}
		size *= 2
	}
	// Kernels before 5.x kept "IKCFG_ST" inside the data.
	if i := bytes.Index(data, []byte("IKCFG_ST")); i >= 0 {
		data = data[i+8:]
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("zlib could not initialize: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, 64<<20))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("zlib could not uncompress: %w", err)
	}
	return out, nil
}

// DMIField is one set dmi_ident[] string.
type DMIField struct {
	Name  string // the enum dmi_field name, "" when the enum is unknown
	Index int
	Value string
}

// ErrNoDMI says the kernel has no dmi_ident (no CONFIG_DMI).
var ErrNoDMI = errors.New("dmi_ident does not exist in this kernel")

// DMI is dmi_ident[] in enum dmi_field order (declaration order, up to the
// first value beyond the array), the NULL entries left out.
func (k *Kernel) DMI() ([]DMIField, error) {
	o, err := k.Var("dmi_ident")
	if err != nil {
		if _, ok := k.Vmlinux.Lookup("dmi_ident"); !ok {
			return nil, ErrNoDMI
		}
		return nil, err
	}
	n := o.Len()
	var order []DMIField
	if t, err := k.Layouts(); err == nil {
		if typ, err := t.Lookup("enum dmi_field"); err == nil {
			if et, ok := typ.(*godwarf.EnumType); ok {
				for _, v := range et.Val {
					if v.Val < 0 || v.Val >= int64(n) {
						break
					}
					order = append(order, DMIField{Name: v.Name, Index: int(v.Val)})
				}
			}
		}
	}
	if order == nil {
		for i := 0; i < n; i++ {
			order = append(order, DMIField{Index: i})
		}
	}
	var out []DMIField
	for _, f := range order {
		el, err := o.Index(f.Index)
		if err != nil {
			return out, err
		}
		p, err := el.Pointer()
		if err != nil {
			return out, err
		}
		if p == 0 {
			continue
		}
		f.Value, _ = readCStringMem(k, p)
		out = append(out, f)
	}
	return out, nil
}

// DMIFieldNames are the enum dmi_field names below the array's length
// (crash pads the names to the longest of these, set or not).
func (k *Kernel) DMIFieldNames() []string {
	o, err := k.Var("dmi_ident")
	if err != nil {
		return nil
	}
	t, err := k.Layouts()
	if err != nil {
		return nil
	}
	typ, err := t.Lookup("enum dmi_field")
	if err != nil {
		return nil
	}
	et, ok := typ.(*godwarf.EnumType)
	if !ok {
		return nil
	}
	var names []string
	for _, v := range et.Val {
		if v.Val < 0 || v.Val >= int64(o.Len()) {
			break
		}
		names = append(names, v.Name)
	}
	return names
}
