package kernel

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Character and block device tables (fs/char_dev.c, block/genhd.c,
// drivers/base/map.c), as crash's dev command finds them.

// devHashSize is CHRDEV_MAJOR_HASH_SIZE and BLKDEV_MAJOR_HASH_SIZE
// (include/linux/fs.h): chrdevs[] and major_names[] hash majors modulo
// 255, and kobj_map.probes[] has as many heads. crash reads 255 entries
// (its MAX_DEV).
const devHashSize = 255

// CharDevice is one struct char_device_struct of the chrdevs[] hash
// table: a registered range of character device numbers.
type CharDevice struct {
	Addr      uint64 // the char_device_struct
	Major     int
	BaseMinor int
	Name      string
	// Cdev is the struct cdev that serves the range: the
	// char_device_struct's own (register_chrdev), else the one
	// cdev_add put into cdev_map for (Major, BaseMinor); 0 when none.
	Cdev uint64
	Fops uint64 // cdev->ops; 0 when there is no cdev
}

// CharDevices lists chrdevs[] as crash's dump_chrdevs does: each hash
// slot in turn, each slot's chain in order.
func (k *Kernel) CharDevices(ctx context.Context) ([]CharDevice, error) {
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	a, ok := k.Vmlinux.Lookup("chrdevs")
	if !ok {
		return nil, errors.New("chrdevs: symbol does not exist")
	}
	heads, err := r.read(a, devHashSize*8, "chrdevs array")
	if err != nil {
		return nil, err
	}
	nameLen, err := r.sizeOf("char_device_struct.name")
	if err != nil {
		return nil, err
	}
	hasCdev := r.has("char_device_struct.cdev")
	probes := k.cdevProbes(r)
	var out []CharDevice
	seen := map[uint64]bool{}
	for i := 0; i < devHashSize; i++ {
		for p := le64(heads, int64(i)*8); p != 0; {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			if seen[p] || len(seen) >= MaxListEntries {
				return out, fmt.Errorf("chrdevs[%d]: char_device_struct %x met twice: corrupt chain", i, p)
			}
			seen[p] = true
			d := CharDevice{Addr: p}
			next, err := r.ptr(p, "char_device_struct.next")
			if err != nil {
				return out, err
			}
			maj, err := r.member(p, "char_device_struct.major", 4)
			if err != nil {
				return out, err
			}
			mn, err := r.member(p, "char_device_struct.baseminor", 4)
			if err != nil {
				return out, err
			}
			d.Major, d.BaseMinor = int(int32(maj)), int(int32(mn))
			no, _ := r.off("char_device_struct.name")
			nb, err := r.read(p+no, int(nameLen), "char_device_struct.name")
			if err != nil {
				return out, err
			}
			// crash copies the array with snprintf(buf, sizeof name):
			// at most sizeof-1 characters.
			d.Name = cstr(nb[:max(0, len(nb)-1)])
			if hasCdev {
				if d.Cdev, err = r.ptr(p, "char_device_struct.cdev"); err != nil {
					return out, err
				}
				if d.Cdev != 0 {
					if d.Fops, err = r.ptr(d.Cdev, "cdev.ops"); err != nil {
						return out, err
					}
				}
			}
			if d.Fops == 0 {
				d.Cdev = 0
				if c, ops, ok := probes.find(ctx, d.Major, d.BaseMinor); ok {
					d.Cdev, d.Fops = c, ops
				}
			}
			out = append(out, d)
			p = next
		}
	}
	return out, nil
}

// kobjProbes is a kobj_map (cdev_map, or bdev_map before 5.11): the heads
// of its probes[] chains of struct probe.
type kobjProbes struct {
	r     *reader
	heads []byte
}

func (k *Kernel) cdevProbes(r *reader) *kobjProbes { return k.kobjMap(r, "cdev_map") }

// kobjMap reads the probes[] heads of the kobj_map the pointer variable
// name points to.
func (k *Kernel) kobjMap(r *reader, name string) *kobjProbes {
	a, ok := k.Vmlinux.Lookup(name)
	if !ok {
		return nil
	}
	m, err := r.word(a, name)
	if err != nil || m == 0 {
		return nil
	}
	po, err := r.off("kobj_map.probes")
	if err != nil {
		return nil
	}
	heads, err := r.read(m+po, devHashSize*8, name+".probes[]")
	if err != nil {
		return nil
	}
	return &kobjProbes{r: r, heads: heads}
}

// find is crash's search_cdev_map_probes: the probe of probes[major]
// whose dev is (major, minor), its data (the struct cdev) and the cdev's
// ops. crash indexes probes[] by the major itself, not major % 255 as
// the kernel's kobj_map does, and reads past its 255 entries for a
// higher major: those find nothing here.
func (p *kobjProbes) find(ctx context.Context, major, minor int) (cdev, ops uint64, ok bool) {
	if p == nil || major < 0 || major >= devHashSize {
		return 0, 0, false
	}
	seen := map[uint64]bool{}
	for n := le64(p.heads, int64(major)*8); n != 0 && !seen[n] && len(seen) < 4096; {
		if ctx.Err() != nil {
			return 0, 0, false
		}
		seen[n] = true
		dev, err := p.r.member(n, "probe.dev", 4)
		if err != nil {
			return 0, 0, false
		}
		if int(dev>>20) == major && int(dev&(1<<20-1)) == minor {
			data, err := p.r.ptr(n, "probe.data")
			if err != nil {
				return 0, 0, false
			}
			ops, err := p.r.ptr(data, "cdev.ops")
			if err != nil {
				return 0, 0, false
			}
			return data, ops, true
		}
		if n, err = p.r.ptr(n, "probe.next"); err != nil {
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// findDisk is crash's search_bdev_map_probes: the first probe of
// probes[major] of that major whose data (a struct gendisk) has fops.
func (p *kobjProbes) findDisk(ctx context.Context, major int) (disk, fops uint64) {
	if p == nil || major < 0 || major >= devHashSize {
		return 0, 0
	}
	seen := map[uint64]bool{}
	for n := le64(p.heads, int64(major)*8); n != 0 && !seen[n] && len(seen) < 4096; {
		if ctx.Err() != nil {
			return 0, 0
		}
		seen[n] = true
		data, err := p.r.ptr(n, "probe.data")
		if err != nil {
			return 0, 0
		}
		if data != 0 {
			dev, err := p.r.member(n, "probe.dev", 4)
			if err != nil {
				return 0, 0
			}
			if int(dev>>20) == major {
				ops, err := p.r.ptr(data, "gendisk.fops")
				if err != nil {
					return 0, 0
				}
				if ops != 0 {
					return data, ops
				}
			}
		}
		if n, err = p.r.ptr(n, "probe.next"); err != nil {
			return 0, 0
		}
	}
	return 0, 0
}

// BlockDevice is the first struct blk_major_name of a major_names[] hash
// slot, with the gendisk crash shows for its major.
type BlockDevice struct {
	Major   int
	Name    string
	Gendisk uint64 // the first disk of this major with fops; 0 when none
	Fops    uint64
}

// BlockDevices lists major_names[] as crash's dump_blkdevs_v3 does: the
// first entry of each hash slot (crash does not follow a slot's chain),
// and for its major the first gendisk with block_device_operations, from
// the inodes of the bdev pseudo filesystem (blockdev_superblock's
// s_inodes, 5.11 and later: each inode is the vfs_inode of a struct
// bdev_inode, right after its struct block_device), or before 5.11 from
// bdev_map's probes.
func (k *Kernel) BlockDevices(ctx context.Context) ([]BlockDevice, error) {
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	a, ok := k.Vmlinux.Lookup("major_names")
	if !ok {
		return nil, errors.New("major_names: symbol does not exist")
	}
	// Before 5.11 the gendisks are bdev_map's probes' data (crash's
	// search_bdev_map_probes), after it the bdev inodes'.
	var bdevMap *kobjProbes
	if _, ok := k.Vmlinux.Lookup("bdev_map"); ok {
		if bdevMap = k.kobjMap(r, "bdev_map"); bdevMap == nil {
			return nil, errors.New("bdev_map: cannot read its probes")
		}
	}
	n := devHashSize
	if sz, err := r.sizeOf("major_names"); err == nil && sz > 0 && sz%8 == 0 {
		n = int(sz / 8)
	}
	heads, err := r.read(a, n*8, "major_names array")
	if err != nil {
		return nil, err
	}
	nameLen, err := r.sizeOf("blk_major_name.name")
	if err != nil {
		return nil, err
	}
	var disks []bdevDisk
	var diskErr error
	if bdevMap == nil {
		disks, diskErr = k.bdevDisks(ctx, r)
	}
	var out []BlockDevice
	for i := 0; i < n; i++ {
		p := le64(heads, int64(i)*8)
		if p == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		maj, err := r.member(p, "blk_major_name.major", 4)
		if err != nil {
			return out, err
		}
		no, _ := r.off("blk_major_name.name")
		nb, err := r.read(p+no, int(min(nameLen, 16)), "blk_major_name")
		if err != nil {
			return out, err
		}
		d := BlockDevice{Major: int(int32(maj)), Name: cstr(nb)}
		if bdevMap != nil {
			// crash looks in probes[major] when the major is the slot's
			// index, else in probes[slot] for that slot's major.
			key := i
			if d.Major == i {
				key = d.Major
			}
			d.Gendisk, d.Fops = bdevMap.findDisk(ctx, key)
		}
		for _, g := range disks {
			if g.major == d.Major {
				d.Gendisk, d.Fops = g.addr, g.fops
				break
			}
		}
		out = append(out, d)
	}
	return out, diskErr
}

type bdevDisk struct {
	addr, fops uint64
	major      int
}

// bdevDisks is crash's search_blockdev_inodes for every major at once:
// the gendisks with fops, in s_inodes order.
func (k *Kernel) bdevDisks(ctx context.Context, r *reader) ([]bdevDisk, error) {
	a, ok := k.Vmlinux.Lookup("blockdev_superblock")
	if !ok {
		return nil, nil
	}
	sb, err := r.word(a, "blockdev_superblock")
	if err != nil || sb == 0 {
		return nil, err
	}
	lo, err := r.off("super_block.s_inodes")
	if err != nil {
		return nil, err
	}
	io, err := r.off("inode.i_sb_list")
	if err != nil {
		return nil, err
	}
	bsize, err := r.sizeOf("block_device")
	if err != nil {
		return nil, err
	}
	var out []bdevDisk
	err = k.WalkList(ctx, sb+lo, "blockdev_superblock.s_inodes", func(node uint64) error {
		inode := node - io
		disk, err := r.ptr(inode-uint64(bsize), "block_device.bd_disk")
		if err != nil || disk == 0 {
			return nil
		}
		maj, err := r.member(disk, "gendisk.major", 4)
		if err != nil {
			return nil
		}
		fops, err := r.ptr(disk, "gendisk.fops")
		if err != nil || fops == 0 {
			return nil
		}
		out = append(out, bdevDisk{addr: disk, fops: fops, major: int(int32(maj))})
		return nil
	})
	return out, err
}

// DiskIO is one disk of the block class with its requests in flight, as
// crash's dev -d counts them.
type DiskIO struct {
	Gendisk uint64
	Name    string
	Major   int
	Queue   uint64
	// MQ says the queue is blk-mq (request_queue.mq_ops set): Read and
	// Write count the requests of the queue's hardware tags in state
	// MQ_RQ_IN_FLIGHT. Otherwise they are the per-cpu disk_stats
	// in_flight[] sums of the disk's part0.
	MQ          bool
	Read, Write int
}

// Disks walks the block class's devices (block_class's subsys_private
// klist_devices) and returns each gendisk (the devices whose type is
// disk_type: partitions are passed over), in klist order, as crash's
// display_all_diskio does.
func (k *Kernel) Disks(ctx context.Context) ([]DiskIO, error) {
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	priv, err := k.blockSubsys(ctx, r)
	if err != nil {
		return nil, err
	}
	diskType, ok := k.Vmlinux.Lookup("disk_type")
	if !ok {
		return nil, errors.New("disk_type: symbol does not exist")
	}
	kd, err := r.off("subsys_private.klist_devices")
	if err != nil {
		return nil, err
	}
	kl, err := r.off("klist.k_list")
	if err != nil {
		return nil, err
	}
	nn, err := r.off("klist_node.n_node")
	if err != nil {
		return nil, err
	}
	kc, err := r.off("device_private.knode_class")
	if err != nil {
		return nil, err
	}
	// The gendisk of a disk's struct device: before 5.11 the device is
	// gendisk.part0.__dev (an embedded struct hd_struct), since the
	// bd_device of part0, a struct block_device (crash's get_gendisk_5).
	var hdDev, part0, bdDev uint64
	if r.has("hd_struct.__dev") {
		if hdDev, err = r.off("hd_struct.__dev"); err != nil {
			return nil, err
		}
		if part0, err = r.off("gendisk.part0"); err != nil {
			return nil, err
		}
	} else if bdDev, err = r.off("block_device.bd_device"); err != nil {
		return nil, err
	}
	nameLen, err := r.sizeOf("gendisk.disk_name")
	if err != nil {
		return nil, err
	}
	var out []DiskIO
	err = k.WalkList(ctx, priv+kd+kl, "block class klist_devices", func(node uint64) error {
		kn := node - nn
		// A dead klist_node (n_klist's low bit) is being removed.
		if nk, err := r.ptr(kn, "klist_node.n_klist"); err != nil || nk&1 != 0 {
			return err
		}
		dev, err := r.ptr(kn-kc, "device_private.device")
		if err != nil {
			return err
		}
		typ, err := r.ptr(dev, "device.type")
		if err != nil {
			return err
		}
		if typ != diskType {
			return nil
		}
		g := dev - hdDev - part0
		if hdDev == 0 && part0 == 0 {
			if g, err = r.ptr(dev-bdDev, "block_device.bd_disk"); err != nil {
				return err
			}
		}
		d := DiskIO{Gendisk: g}
		no, _ := r.off("gendisk.disk_name")
		nb, err := r.read(g+no, int(nameLen), "gendisk.disk_name")
		if err != nil {
			return err
		}
		d.Name = cstr(nb)
		if d.Queue, err = r.ptr(g, "gendisk.queue"); err != nil {
			return err
		}
		maj, err := r.member(g, "gendisk.major", 4)
		if err != nil {
			return err
		}
		d.Major = int(int32(maj))
		if err := k.diskInFlight(ctx, r, &d); err != nil {
			return fmt.Errorf("disk %s (gendisk %x): %w", d.Name, g, err)
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// blockSubsys is the struct subsys_private of the block class: block_class.p
// before 6.4, else the class_kset entry named "block" (crash's
// get_subsys_private).
func (k *Kernel) blockSubsys(ctx context.Context, r *reader) (uint64, error) {
	bc, ok := k.Vmlinux.Lookup("block_class")
	if !ok {
		return 0, errors.New("block_class: symbol does not exist")
	}
	if r.has("class.p") {
		p, err := r.ptr(bc, "class.p")
		if err == nil && p == 0 {
			err = errors.New("cannot determine subsys_private for block")
		}
		return p, err
	}
	return k.subsysPrivate(ctx, r, "class_kset", "block")
}

// subsysPrivate is crash's get_subsys_private: the struct subsys_private
// whose subsys kobject, on the list of the kset the pointer ksetSym
// holds (class_kset, bus_kset), is named name.
func (k *Kernel) subsysPrivate(ctx context.Context, r *reader, ksetSym, name string) (uint64, error) {
	ka, ok := k.Vmlinux.Lookup(ksetSym)
	if !ok {
		return 0, fmt.Errorf("cannot determine subsys_private for %s", name)
	}
	kset, err := r.word(ka, ksetSym)
	if err != nil {
		return 0, err
	}
	lo, err := r.off("kset.list")
	if err != nil {
		return 0, err
	}
	eo, err := r.off("kobject.entry")
	if err != nil {
		return 0, err
	}
	ko, err := r.off("kset.kobj")
	if err != nil {
		return 0, err
	}
	so, err := r.off("subsys_private.subsys")
	if err != nil {
		return 0, err
	}
	var priv uint64
	errFound := errors.New("found")
	err = k.WalkList(ctx, kset+lo, ksetSym+".list", func(node uint64) error {
		kobj := node - eo
		np, err := r.ptr(kobj, "kobject.name")
		if err != nil {
			return err
		}
		if n, _ := r.cstring(np, 31); n == name {
			priv = kobj - ko - so
			return errFound
		}
		return nil
	})
	if priv != 0 {
		return priv, nil
	}
	if err == nil {
		err = fmt.Errorf("cannot determine subsys_private for %s", name)
	}
	return 0, err
}

// mqRqInFlight is enum mq_rq_state's MQ_RQ_IN_FLIGHT (block/blk-mq.h).
const mqRqInFlight = 1

// diskInFlight fills d.Read and d.Write (crash's get_diskio_1).
func (k *Kernel) diskInFlight(ctx context.Context, r *reader, d *DiskIO) error {
	if r.has("request_queue.mq_ops") {
		ops, err := r.ptr(d.Queue, "request_queue.mq_ops")
		if err != nil {
			return err
		}
		d.MQ = ops != 0
	}
	if !d.MQ {
		// bio-based disks: part0 (a struct block_device since 5.11,
		// an embedded struct hd_struct with dkstats before) has
		// per-cpu disk_stats with in_flight[READ, WRITE].
		var stats uint64
		if r.has("hd_struct.dkstats") {
			po, err := r.off("gendisk.part0")
			if err != nil {
				return err
			}
			so, err := r.off("hd_struct.dkstats")
			if err != nil {
				return err
			}
			if stats, err = r.word(d.Gendisk+po+so, "gendisk.part0.dkstats"); err != nil {
				return err
			}
		} else {
			part0, err := r.ptr(d.Gendisk, "gendisk.part0")
			if err != nil {
				return err
			}
			if stats, err = r.ptr(part0, "block_device.bd_stats"); err != nil {
				return err
			}
		}
		fo, err := r.off("disk_stats.in_flight")
		if err != nil {
			return err
		}
		ncpu, err := k.NumCPUs()
		if err != nil {
			return err
		}
		for cpu := 0; cpu < ncpu; cpu++ {
			off, err := k.PerCPUOffset(cpu)
			if err != nil {
				return err
			}
			b, err := r.read(stats+off+fo, 16, "disk_stats.in_flight")
			if err != nil {
				return err
			}
			d.Read += int(le64(b, 0))
			d.Write += int(le64(b, 8))
		}
		return nil
	}
	if !r.has("request.state") {
		return errors.New("blk-mq before the request state machine (blk_mq_ctx counters) is not supported")
	}
	hctxs, err := k.hwQueues(ctx, r, d.Queue)
	if err != nil {
		return err
	}
	for _, h := range hctxs {
		tags, err := r.ptr(h, "blk_mq_hw_ctx.tags")
		if err != nil {
			return err
		}
		nres, err := r.member(tags, "blk_mq_tags.nr_reserved_tags", 4)
		if err != nil {
			return err
		}
		rqs, err := r.ptr(tags, "blk_mq_tags.rqs")
		if err != nil {
			return err
		}
		count := func(bit uint64) error {
			rq, err := r.word(rqs+bit*8, "blk_mq_tags.rqs[]")
			if err != nil {
				return err
			}
			if rq < KernelSpaceStart {
				return nil
			}
			q, err := r.ptr(rq, "request.q")
			if err != nil {
				return err
			}
			flags, err := r.member(rq, "request.cmd_flags", 4)
			if err != nil {
				return err
			}
			state, err := r.member(rq, "request.state", 4)
			if err != nil {
				return err
			}
			if q == d.Queue && state == mqRqInFlight {
				// op_is_write: the low bit of REQ_OP (the low 8 bits).
				if flags&0xff&1 != 0 {
					d.Write++
				} else {
					d.Read++
				}
			}
			return nil
		}
		if nres != 0 {
			sbq, err := k.tagsBitmap(r, tags, "blk_mq_tags.breserved_tags")
			if err != nil {
				return err
			}
			if err := k.sbitmapForEachSet(ctx, r, sbq, count); err != nil {
				return err
			}
		}
		sbq, err := k.tagsBitmap(r, tags, "blk_mq_tags.bitmap_tags")
		if err != nil {
			return err
		}
		if err := k.sbitmapForEachSet(ctx, r, sbq, func(bit uint64) error { return count(bit + nres) }); err != nil {
			return err
		}
	}
	return nil
}

// hwQueues are a request_queue's struct blk_mq_hw_ctx: the hctx_table
// XArray (5.18 and later), else queue_hw_ctx[nr_hw_queues].
func (k *Kernel) hwQueues(ctx context.Context, r *reader, q uint64) ([]uint64, error) {
	if o, err := r.off("request_queue.hctx_table"); err == nil {
		l, err := k.XALayout()
		if err != nil {
			return nil, err
		}
		ho, err := r.off("xarray.xa_head")
		if err != nil {
			return nil, err
		}
		head, err := r.word(q+o+ho, "request_queue.hctx_table")
		if err != nil || head == 0 {
			return nil, err
		}
		var out []uint64
		err = WalkXArray(ctx, r.mem, l, head, false, func(e XAEntry) error {
			if e.Entry != 0 {
				if len(out) >= 1<<16 {
					return errors.New("request_queue.hctx_table: more than 65536 hardware queues: corrupt")
				}
				out = append(out, e.Entry)
			}
			return nil
		})
		return out, err
	}
	n, err := r.member(q, "request_queue.nr_hw_queues", 4)
	if err != nil {
		return nil, err
	}
	if n > 1<<16 {
		return nil, fmt.Errorf("request_queue %x: nr_hw_queues %d: implausible", q, n)
	}
	arr, err := r.ptr(q, "request_queue.queue_hw_ctx")
	if err != nil {
		return nil, err
	}
	b, err := r.read(arr, int(n)*8, "request_queue.queue_hw_ctx[]")
	if err != nil {
		return nil, err
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = le64(b, int64(i)*8)
	}
	return out, nil
}

// tagsBitmap is the struct sbitmap_queue of a blk_mq_tags member (a
// pointer to it between 5.14 and 5.16).
func (k *Kernel) tagsBitmap(r *reader, tags uint64, path string) (uint64, error) {
	o, err := r.off(path)
	if err != nil {
		return 0, err
	}
	m, err := r.t.Member("blk_mq_tags", strings.TrimPrefix(path, "blk_mq_tags."))
	if err == nil && isPtrType(m.Type) {
		return r.word(tags+o, path)
	}
	return tags + o, nil
}

// sbitmapForEachSet calls fn with each set bit of the sbitmap_queue's
// sbitmap (word & ~cleared, below the depth), as crash's
// sbitmap_for_each_set from bit 0.
func (k *Kernel) sbitmapForEachSet(ctx context.Context, r *reader, sbq uint64, fn func(bit uint64) error) error {
	so, err := r.off("sbitmap_queue.sb")
	if err != nil {
		return err
	}
	sb := sbq + so
	depth, err := r.member(sb, "sbitmap.depth", 4)
	if err != nil {
		return err
	}
	shift, err := r.member(sb, "sbitmap.shift", 4)
	if err != nil {
		return err
	}
	mapNr, err := r.member(sb, "sbitmap.map_nr", 4)
	if err != nil {
		return err
	}
	m, err := r.ptr(sb, "sbitmap.map")
	if err != nil {
		return err
	}
	if shift > 6 || depth > 1<<24 || mapNr > 1<<24 || (mapNr<<shift) < depth {
		return fmt.Errorf("sbitmap at %x: depth %d, shift %d, map_nr %d: corrupt", sb, depth, shift, mapNr)
	}
	wsize, err := r.sizeOf("sbitmap_word")
	if err != nil {
		return err
	}
	wo, err := r.off("sbitmap_word.word")
	if err != nil {
		return err
	}
	co, clearedErr := r.off("sbitmap_word.cleared")
	for i := uint64(0); i < mapNr; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i<<shift >= depth {
			break
		}
		wa := m + i*uint64(wsize)
		w, err := r.word(wa+wo, "sbitmap_word")
		if err != nil {
			return err
		}
		if clearedErr == nil {
			c, err := r.word(wa+co, "sbitmap_word.cleared")
			if err != nil {
				return err
			}
			w &^= c
		}
		bits := min(uint64(1)<<shift, depth-i<<shift)
		for b := uint64(0); b < bits; b++ {
			if w&(1<<b) != 0 {
				if err := fn(i<<shift + b); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// cstr is the bytes of b up to its first NUL.
func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
