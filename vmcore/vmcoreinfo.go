package vmcore

import (
	"strconv"
	"strings"
)

// VMCoreInfo is the kernel's self-description written at crash time
// (kernel/crash_core.c, arch/x86/kernel/crash_core_64.c): lines of KEY=VALUE
// where SYMBOL() values are hex addresses, OFFSET/SIZE/LENGTH/NUMBER are
// decimal, KERNELOFFSET is hex.
type VMCoreInfo struct {
	Raw          string
	OSRelease    string // OSRELEASE
	BuildID      string // BUILD-ID, hex, "" if absent
	PageSize     uint64 // PAGESIZE, 0 if absent
	KernelOffset uint64 // KERNELOFFSET (the KASLR slide), 0 if absent
	PhysBase     uint64 // NUMBER(phys_base); for kdump files without it, the sub-header's phys_base
	CrashTime    int64  // CRASHTIME, 0 if absent

	keys map[string]string
}

// ParseVMCoreInfo parses VMCOREINFO text. Unknown keys are kept for Get;
// malformed lines are skipped, so it never fails.
func ParseVMCoreInfo(raw string) *VMCoreInfo {
	if i := strings.IndexByte(raw, 0); i >= 0 {
		raw = raw[:i]
	}
	v := &VMCoreInfo{Raw: raw, keys: make(map[string]string)}
	for line := range strings.SplitSeq(raw, "\n") {
		key, val, ok := strings.Cut(line, "=")
		if !ok || key == "" {
			continue
		}
		if _, dup := v.keys[key]; !dup {
			v.keys[key] = val
		}
	}
	v.OSRelease = v.keys["OSRELEASE"]
	v.BuildID = v.keys["BUILD-ID"]
	if n, err := strconv.ParseUint(v.keys["PAGESIZE"], 10, 64); err == nil {
		v.PageSize = n
	}
	if n, err := strconv.ParseUint(v.keys["KERNELOFFSET"], 16, 64); err == nil {
		v.KernelOffset = n
	}
	if n, ok := v.Number("phys_base"); ok {
		v.PhysBase = uint64(n)
	}
	if n, err := strconv.ParseInt(v.keys["CRASHTIME"], 10, 64); err == nil {
		v.CrashTime = n
	}
	return v
}

// Get returns the raw value of a key such as "OSRELEASE" or "SYMBOL(init_uts_ns)".
func (v *VMCoreInfo) Get(key string) (string, bool) {
	if v == nil {
		return "", false
	}
	s, ok := v.keys[key]
	return s, ok
}

// Len returns the number of distinct keys.
func (v *VMCoreInfo) Len() int {
	if v == nil {
		return 0
	}
	return len(v.keys)
}

// Symbol returns SYMBOL(name), the address of a kernel symbol at crash time
// (already relocated by KASLR).
func (v *VMCoreInfo) Symbol(name string) (uint64, bool) {
	s, ok := v.Get("SYMBOL(" + name + ")")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(s), "0x"), 16, 64)
	return n, err == nil
}

func (v *VMCoreInfo) decimal(key string) (int64, bool) {
	s, ok := v.Get(key)
	if !ok {
		return 0, false
	}
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	// %lu of a value with the top bit set (a mask) does not fit int64.
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return int64(n), true
	}
	return 0, false
}

// Offset returns OFFSET(name), name being "struct.member".
func (v *VMCoreInfo) Offset(name string) (int64, bool) { return v.decimal("OFFSET(" + name + ")") }

// Size returns SIZE(name).
func (v *VMCoreInfo) Size(name string) (int64, bool) { return v.decimal("SIZE(" + name + ")") }

// Number returns NUMBER(name).
func (v *VMCoreInfo) Number(name string) (int64, bool) { return v.decimal("NUMBER(" + name + ")") }

// Length returns LENGTH(name).
func (v *VMCoreInfo) Length(name string) (int64, bool) { return v.decimal("LENGTH(" + name + ")") }
