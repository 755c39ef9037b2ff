package vmcore

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
)

// makedumpfile's flattened format (makedumpfile -F, for piping a dump over
// ssh): a 4096-byte header starting with "makedumpfile" padded to 16 bytes,
// then records of {int64 offset, int64 size} (big-endian) each followed by
// size bytes that belong at offset of the real file; a record of {-1, -1}
// ends the stream. Facts from makedumpfile.h (struct makedumpfile_header,
// makedumpfile_data_header, MAX_SIZE_MDF_HEADER, END_FLAG_FLAT_HEADER).
const (
	flatSignature  = "makedumpfile"
	flatHeaderSize = 4096
	flatTypeHeader = 1 // TYPE_FLAT_HEADER
	flatRecordHdr  = 16
)

// flatSeg places source bytes [src, src+n) at offset off of the
// reconstructed file.
type flatSeg struct {
	off, n, src int64
}

// flatSource is the file a flattened stream describes. Bytes never written
// read as zeroes, as they would in the sparse file makedumpfile -R writes.
type flatSource struct {
	raw      source
	segs     []flatSeg // sorted by off, not overlapping
	size     int64
	data     int64 // bytes the records carry (size minus the holes)
	complete bool  // the end record was seen
	records  int
}

func isFlattened(hdr []byte) bool {
	return len(hdr) >= 16 && string(hdr[:len(flatSignature)]) == flatSignature && hdr[len(flatSignature)] == 0
}

// indexFlattened reads the record headers in one pass, skipping over the
// data. A stream cut short keeps what was complete.
func indexFlattened(raw source) (*flatSource, error) {
	var hdr [24]byte
	if err := readFull(raw, hdr[:], 0, "flattened format header"); err != nil {
		return nil, err
	}
	if typ := int64(binary.BigEndian.Uint64(hdr[16:])); typ != flatTypeHeader {
		return nil, formatErr(16, "flattened format: expected type 1 (TYPE_FLAT_HEADER), found", typ)
	}
	fs := &flatSource{raw: raw}
	pos := int64(flatHeaderSize)
	size := raw.Size()
	var rec [flatRecordHdr]byte
	for {
		if pos+flatRecordHdr > size {
			break // no end record: the stream was cut short
		}
		hdr := rec[:]
		if v, ok := raw.(viewer); ok {
			hdr, _ = v.view(pos, flatRecordHdr) // no copy: this loop runs once per record
		}
		if hdr == nil {
			hdr = rec[:]
		}
		if len(hdr) == 0 || &hdr[0] == &rec[0] {
			if err := readFull(raw, rec[:], pos, "flattened record header"); err != nil {
				return nil, err
			}
		}
		off := int64(binary.BigEndian.Uint64(hdr[0:]))
		n := int64(binary.BigEndian.Uint64(hdr[8:]))
		if off == -1 && n == -1 {
			fs.complete = true
			break
		}
		if off < 0 || n < 0 || off > (1<<62) || n > (1<<62) {
			return nil, formatErr(pos, fmt.Sprintf("flattened record: invalid offset %d / size %d", off, n), nil)
		}
		data := pos + flatRecordHdr
		if n > size-data {
			n = size - data // last record cut short
		}
		if n > 0 {
			fs.insert(flatSeg{off: off, n: n, src: data})
		}
		fs.records++
		if data+n >= size {
			break
		}
		pos = data + n
	}
	if len(fs.segs) > 0 {
		last := fs.segs[len(fs.segs)-1]
		fs.size = last.off + last.n
	}
	for _, s := range fs.segs {
		fs.data += s.n
	}
	return fs, nil
}

// insert adds a record; a later record overrides what earlier ones wrote.
func (fs *flatSource) insert(s flatSeg) {
	if k := len(fs.segs); k == 0 || s.off >= fs.segs[k-1].off+fs.segs[k-1].n {
		fs.segs = append(fs.segs, s)
		return
	}
	end := s.off + s.n
	i := sort.Search(len(fs.segs), func(i int) bool { return fs.segs[i].off+fs.segs[i].n > s.off })
	j := sort.Search(len(fs.segs), func(i int) bool { return fs.segs[i].off >= end })
	var repl []flatSeg
	if i < j && fs.segs[i].off < s.off {
		l := fs.segs[i]
		l.n = s.off - l.off
		repl = append(repl, l)
	}
	repl = append(repl, s)
	if i < j {
		r := fs.segs[j-1]
		if rend := r.off + r.n; rend > end {
			cut := end - r.off
			repl = append(repl, flatSeg{off: end, n: rend - end, src: r.src + cut})
		}
	}
	fs.segs = append(fs.segs[:i], append(repl, fs.segs[j:]...)...)
}

func (fs *flatSource) Size() int64 { return fs.size }

// dataSize bounds what readBytes allocates for a read of fs.
func (fs *flatSource) dataSize() int64 { return fs.data }

func (fs *flatSource) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	done := 0
	i := sort.Search(len(fs.segs), func(i int) bool { return fs.segs[i].off+fs.segs[i].n > off })
	for done < len(p) {
		cur := off + int64(done)
		if cur >= fs.size {
			return done, io.EOF
		}
		if i >= len(fs.segs) || cur < fs.segs[i].off {
			// A hole: zeroes up to the next record.
			next := fs.size
			if i < len(fs.segs) {
				next = fs.segs[i].off
			}
			k := int(min(next-cur, int64(len(p)-done)))
			clear(p[done : done+k])
			done += k
			continue
		}
		s := fs.segs[i]
		k := int(min(s.off+s.n-cur, int64(len(p)-done)))
		n, err := fs.raw.ReadAt(p[done:done+k], s.src+(cur-s.off))
		done += n
		if n < k {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return done, err
		}
		i++
	}
	return done, nil
}
