package vmcore

import (
	"bytes"
	"fmt"
	"github.com/klauspost/compress/zlib"
	"io"

	lzo "github.com/anchore/go-lzo"
	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
)

// page_desc.flags, makedumpfile diskdump_mod.h.
const (
	flagZlib   = 0x1  // DUMP_DH_COMPRESSED_ZLIB
	flagLZO    = 0x2  // DUMP_DH_COMPRESSED_LZO (LZO1X)
	flagSnappy = 0x4  // DUMP_DH_COMPRESSED_SNAPPY
	flagZstd   = 0x20 // DUMP_DH_COMPRESSED_ZSTD
)

// decompressor holds reusable decoder state. It is not safe for concurrent
// use: each shard of the Dump's page cache has its own, under its lock.
type decompressor struct {
	zr   io.ReadCloser // zlib reader, reset per page
	zsrc bytes.Reader
	zstd *zstd.Decoder
}

// decompress fills dst (one page) from the page data src according to the
// page descriptor's flags. makedumpfile stores a page raw (flags 0, size ==
// page size) when compression would not make it smaller.
func (dc *decompressor) decompress(flags uint32, src, dst []byte) error {
	switch {
	case flags&flagZlib != 0:
		dc.zsrc.Reset(src)
		if dc.zr == nil {
			zr, err := zlib.NewReader(&dc.zsrc)
			if err != nil {
				return fmt.Errorf("zlib: %w", err)
			}
			dc.zr = zr
		} else if err := dc.zr.(zlib.Resetter).Reset(&dc.zsrc, nil); err != nil {
			return fmt.Errorf("zlib: %w", err)
		}
		if _, err := io.ReadFull(dc.zr, dst); err != nil {
			return fmt.Errorf("zlib: %w", err)
		}
		return nil
	case flags&flagLZO != 0:
		n, err := lzo.Decompress(src, dst)
		if err != nil {
			return fmt.Errorf("lzo: %w", err)
		}
		if n != len(dst) {
			return fmt.Errorf("lzo: decompressed %d bytes, expected %d", n, len(dst))
		}
		return nil
	case flags&flagSnappy != 0:
		n, err := snappy.DecodedLen(src)
		if err != nil {
			return fmt.Errorf("snappy: %w", err)
		}
		if n != len(dst) {
			return fmt.Errorf("snappy: page decodes to %d bytes, expected %d", n, len(dst))
		}
		out, err := snappy.Decode(dst, src)
		if err != nil {
			return fmt.Errorf("snappy: %w", err)
		}
		if len(out) > 0 && &out[0] != &dst[0] {
			copy(dst, out)
		}
		return nil
	case flags&flagZstd != 0:
		if dc.zstd == nil {
			d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecodeAllCapLimit(true),
				zstd.WithDecoderMaxMemory(uint64(max(len(dst), 1))))
			if err != nil {
				return fmt.Errorf("zstd: %w", err)
			}
			dc.zstd = d
		}
		out, err := dc.zstd.DecodeAll(src, dst[:0])
		if err != nil {
			return fmt.Errorf("zstd: %w", err)
		}
		if len(out) != len(dst) {
			return fmt.Errorf("zstd: decompressed %d bytes, expected %d", len(out), len(dst))
		}
		if len(out) > 0 && &out[0] != &dst[0] {
			copy(dst, out)
		}
		return nil
	default:
		if len(src) != len(dst) {
			return fmt.Errorf("uncompressed page of %d bytes, expected %d", len(src), len(dst))
		}
		copy(dst, src)
		return nil
	}
}

func (dc *decompressor) close() {
	if dc.zstd != nil {
		dc.zstd.Close()
		dc.zstd = nil
	}
}
