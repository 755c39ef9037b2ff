package symbols

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// The in-memory kallsyms and BTF readers take bytes from the dump, which
// may be anything: fuzzed, they must return an error, never panic or hang.

const blobBase = 0xffffffff81000000

// kallsymsBlob is a fuzz input for ReadKallsyms: six little-endian uint32
// offsets into the blob (names, num_syms, token_table, token_index,
// offsets, relative_base), then the arrays, the blob mapped at blobBase.
func kallsymsBlob(data []byte) (Memory, KallsymsAddrs) {
	if len(data) < 24 {
		return sliceMemory{base: blobBase, data: data}, KallsymsAddrs{}
	}
	le := binary.LittleEndian
	at := func(i int) uint64 { return blobBase + uint64(le.Uint32(data[4*i:])) }
	return sliceMemory{base: blobBase, data: data},
		KallsymsAddrs{Names: at(0), NumSyms: at(1), TokenTable: at(2), TokenIndex: at(3), Offsets: at(4), RelativeBase: at(5)}
}

// kallsymsSeed copies the first n symbols' worth of a real dump's kallsyms
// arrays into a blob.
func kallsymsSeed(mem Memory, a KallsymsAddrs, n int) ([]byte, error) {
	le := binary.LittleEndian
	var num [4]byte
	if err := mem.ReadVirt(num[:], a.NumSyms); err != nil {
		return nil, err
	}
	n = min(n, int(le.Uint32(num[:])))
	// The names of n symbols: walk their length bytes.
	r := &chunkReader{mem: mem, addr: a.Names, limit: maxKallsymsNames}
	for range n {
		l, err := r.byte()
		if err != nil {
			return nil, err
		}
		ln := int(l)
		if l&0x80 != 0 {
			hi, err := r.byte()
			if err != nil {
				return nil, err
			}
			ln = int(l&0x7f) | int(hi)<<7
		}
		for range ln {
			if _, err := r.byte(); err != nil {
				return nil, err
			}
		}
	}
	names := make([]byte, r.off)
	idx := make([]byte, 512)
	offs := make([]byte, 4*n)
	base := make([]byte, 8)
	for _, p := range []struct {
		b    []byte
		addr uint64
	}{{names, a.Names}, {idx, a.TokenIndex}, {offs, a.Offsets}, {base, a.RelativeBase}} {
		if err := mem.ReadVirt(p.b, p.addr); err != nil {
			return nil, err
		}
	}
	maxOff := 0
	for i := range 256 {
		maxOff = max(maxOff, int(le.Uint16(idx[2*i:])))
	}
	tokens := make([]byte, maxOff+64)
	if err := mem.ReadVirt(tokens, a.TokenTable); err != nil {
		return nil, err
	}
	le.PutUint32(num[:], uint32(n))
	blob := make([]byte, 24)
	for i, part := range [][]byte{names, num[:], tokens, idx, offs, base} {
		le.PutUint32(blob[4*i:], uint32(len(blob)))
		blob = append(blob, part...)
	}
	return blob, nil
}

func FuzzKallsyms(f *testing.F) {
	for _, p := range openMemImagePairsF(f) {
		if seed, err := kallsymsSeed(p.mem, p.kallsyms, 200); err == nil {
			f.Add(seed)
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		mem, a := kallsymsBlob(data)
		start := time.Now()
		syms, err := ReadKallsyms(mem, a)
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("ReadKallsyms took %v", el)
		}
		if err == nil && len(syms) == 0 {
			t.Fatal("no error and no symbols")
		}
		for _, s := range syms {
			if s.Name == "" {
				t.Fatalf("symbol with no name: %+v", s)
			}
		}
	})
}

// btfSeed is a small BTF made of a real kernel's types (a few structs and
// everything they refer to), marshalled again by cilium/ebpf.
func btfSeed(tb testing.TB, bt *Types) []byte {
	b, err := btf.NewBuilder(nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	spec := btfSpec(tb, bt)
	for _, name := range []string{"list_head", "rb_node", "timer_list", "upid", "pid_type", "kref", "qstr"} {
		typ, err := spec.AnyTypeByName(name)
		if err != nil {
			continue
		}
		if _, err := b.Add(typ); err != nil {
			tb.Fatal(err)
		}
	}
	out, err := b.Marshal(nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func FuzzBTF(f *testing.F) {
	for _, p := range openMemImagePairsF(f) {
		if !p.fromMem.HasBTF() {
			continue
		}
		bt, err := p.fromMem.Types()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(btfSeed(f, bt))
	}
	f.Add([]byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Eager (a session without the vmlinux) and lazy (Layouts: a
		// pointer's struct decoded when looked into).
		for _, lazy := range []bool{false, true} {
			ty, err := newBTFTypes("fuzz", data, lazy)
			if err != nil {
				return
			}
			names, err := ty.TypeNames("")
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				for _, kind := range []string{"struct ", "union "} {
					typ, err := ty.Lookup(kind + n)
					if err != nil {
						continue
					}
					ty.Size(typ)
					st, err := ty.Resolve(typ)
					if err != nil {
						continue
					}
					_ = typeName(st)
					if s, ok := st.(*godwarf.StructType); ok {
						for _, f := range s.Field {
							if pt, ok := f.Type.(*godwarf.PtrType); ok {
								ty.Size(pt.Type)
							}
						}
					}
				}
			}
			for n := range knownVars {
				ty.VarType(n)
			}
		}
	})
}
