package kernel

import (
	"context"
	"encoding/binary"
	"fmt"
)

// The socket walker: the open file descriptors of a task that are
// sockets, each socket's struct sock and what crash's net -s shows of it
// (net.c dump_sockets_workhorse(), sym_socket_dump(), get_sock_info()).
// Layouts: include/linux/net.h (struct socket), include/net/sock.h (struct
// sock, struct sock_common), include/net/inet_sock.h (struct inet_sock:
// pinet6 follows sk), include/linux/fdtable.h.

// A Socket is one open file descriptor that is a socket.
type Socket struct {
	FD     int
	File   uint64
	Socket uint64 // the struct socket before the inode (socket_alloc)
	Sock   uint64 // socket->sk
	Family uint16 // sk_family (AF_*)
	Type   uint16 // sk_type (SOCK_*)
	// IPv4 addresses and ports in network byte order, as the sock
	// keeps them (crash reads them for every family, prints them for
	// AF_INET).
	RcvSaddr, Daddr [4]byte
	Sport, Dport    uint16
	// IPv6 (AF_INET6): the sock_common's addresses; V6 is false when
	// they could not be read.
	V6               bool
	V6Saddr, V6Daddr [16]byte
	V6Reason         string // why V6 is false, crash's words
}

// TaskSockets is what net -s shows of one task: whether it has a
// descriptor table at all (crash: "No open sockets." otherwise), its
// highest descriptor (max_fds, for -R's decimal test) and its sockets.
type TaskSockets struct {
	HasTable bool
	MaxFDs   uint64
	Sockets  []Socket
}

// AF_INET and AF_INET6 (include/linux/socket.h).
const (
	AFInet  = 2
	AFInet6 = 10
)

// TaskSockets walks task's file descriptors for sockets.
func (k *Kernel) TaskSockets(ctx context.Context, task uint64) (*TaskSockets, error) {
	r, err := k.reader()
	if err != nil {
		return nil, err
	}
	ts := &TaskSockets{}
	files, err := r.ptr(task, "task_struct.files")
	if err != nil {
		return nil, err
	}
	if files == 0 {
		return ts, nil
	}
	fdt, err := r.ptr(files, "files_struct.fdt")
	if err != nil || fdt == 0 {
		return ts, err
	}
	maxFds, err := r.member(fdt, "fdtable.max_fds", 4)
	if err != nil || maxFds == 0 {
		return ts, err
	}
	if maxFds > maxFDs {
		return nil, fmt.Errorf("fdtable at %x: max_fds %d is not believable", fdt, maxFds)
	}
	openFds, err := r.ptr(fdt, "fdtable.open_fds")
	if err != nil {
		return nil, err
	}
	fdArr, err := r.ptr(fdt, "fdtable.fd")
	if err != nil {
		return nil, err
	}
	ts.MaxFDs = maxFds
	if openFds == 0 || fdArr == 0 {
		return ts, nil
	}
	ts.HasTable = true
	bits, err := r.read(openFds, int(maxFds/8), "files_struct open_fds")
	if err != nil {
		return nil, err
	}
	sw, err := newSockWalker(r)
	if err != nil {
		return nil, err
	}
	for i := 0; i < int(maxFds) && i/8 < len(bits); i++ {
		if bits[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		file, err := r.word(fdArr+uint64(i)*8, "fd file")
		if err != nil {
			return nil, err
		}
		if file == 0 {
			continue
		}
		s, ok, err := sw.socket(file, i)
		if err != nil {
			return ts, err
		}
		if ok {
			ts.Sockets = append(ts.Sockets, s)
		}
	}
	return ts, nil
}

// sockWalker holds the offsets one socket read needs.
type sockWalker struct {
	r                             *reader
	vfsInode, sk                  uint64 // socket_alloc.vfs_inode, socket.sk
	family, typ                   uint64 // sock_common.skc_family, sock.sk_type
	daddr, rcvSaddr, dport, sport uint64
	sockSize                      uint64 // sizeof(struct sock): inet_sock's pinet6 follows it
	inetSize                      uint64 // sizeof(struct inet_sock): what crash reads
	v6Daddr, v6Saddr              uint64
	hasV6                         bool
	pinfoDaddr, pinfoSaddr        uint64
	hasPinfo                      bool
}

func newSockWalker(r *reader) (*sockWalker, error) {
	w := &sockWalker{r: r}
	var err error
	get := func(path string) uint64 {
		if err != nil {
			return 0
		}
		var o uint64
		o, err = r.off(path)
		return o
	}
	w.vfsInode = get("socket_alloc.vfs_inode")
	w.sk = get("socket.sk")
	w.family = get("sock_common.skc_family")
	w.typ = get("sock.sk_type")
	w.daddr = get("sock_common.skc_daddr")
	w.rcvSaddr = get("sock_common.skc_rcv_saddr")
	// crash: inet_sock.inet_dport where it is a member, else the
	// sock_common's (the inet_sock macro since 3.x).
	if r.has("inet_sock.inet_dport") {
		w.dport = get("inet_sock.inet_dport")
	} else {
		w.dport = get("sock_common.skc_dport")
	}
	w.sport = get("inet_sock.inet_sport")
	if err != nil {
		return nil, err
	}
	n, err := r.sizeOf("sock")
	if err != nil {
		return nil, err
	}
	w.sockSize = uint64(n)
	in, err := r.sizeOf("inet_sock")
	if err != nil {
		return nil, err
	}
	w.inetSize = max(uint64(in), w.sockSize+8)
	for _, o := range []uint64{w.family, w.typ, w.dport, w.sport} {
		if o+2 > w.inetSize {
			return nil, fmt.Errorf("struct inet_sock: a member at %d beyond its %d bytes", o, w.inetSize)
		}
	}
	for _, o := range []uint64{w.daddr, w.rcvSaddr} {
		if o+4 > w.inetSize {
			return nil, fmt.Errorf("struct inet_sock: a member at %d beyond its %d bytes", o, w.inetSize)
		}
	}
	if r.has("ipv6_pinfo.rcv_saddr") && r.has("ipv6_pinfo.daddr") {
		w.hasPinfo = true
		w.pinfoSaddr, _ = r.off("ipv6_pinfo.rcv_saddr")
		w.pinfoDaddr, _ = r.off("ipv6_pinfo.daddr")
	} else if r.has("sock_common.skc_v6_daddr") && r.has("sock_common.skc_v6_rcv_saddr") {
		w.hasV6 = true
		w.v6Saddr, _ = r.off("sock_common.skc_v6_rcv_saddr")
		w.v6Daddr, _ = r.off("sock_common.skc_v6_daddr")
	}
	return w, nil
}

// socket reads one open file: ok is false when it is not a socket.
func (w *sockWalker) socket(file uint64, fd int) (Socket, bool, error) {
	r := w.r
	s := Socket{FD: fd, File: file}
	dentry, err := r.ptr(file, "file.f_path.dentry")
	if err != nil || dentry == 0 {
		return s, false, err
	}
	inode, err := r.ptr(dentry, "dentry.d_inode")
	if err != nil || inode == 0 {
		return s, false, err
	}
	mode, err := r.sized(inode, "inode.i_mode")
	if err != nil {
		return s, false, err
	}
	if mode&0o170000 != 0o140000 { // S_ISSOCK
		return s, false, nil
	}
	s.Socket = inode - w.vfsInode
	if s.Sock, err = r.word(s.Socket+w.sk, "socket buffer"); err != nil {
		return s, false, err
	}
	// crash reads the whole inet_sock and takes the fields from it.
	b, err := r.read(s.Sock, int(w.inetSize), "inet_sock buffer")
	if err != nil {
		return s, false, err
	}
	u16 := func(o uint64) uint16 { return binary.LittleEndian.Uint16(b[o:]) }
	s.Family, s.Type = u16(w.family), u16(w.typ)
	copy(s.Daddr[:], b[w.daddr:])
	copy(s.RcvSaddr[:], b[w.rcvSaddr:])
	s.Dport, s.Sport = binary.BigEndian.Uint16(b[w.dport:]), binary.BigEndian.Uint16(b[w.sport:])
	if s.Family != AFInet6 {
		return s, true, nil
	}
	var src, dst uint64
	switch {
	case w.hasPinfo:
		pinfo := binary.LittleEndian.Uint64(b[w.sockSize:])
		src, dst = pinfo+w.pinfoSaddr, pinfo+w.pinfoDaddr
	case w.hasV6:
		src, dst = s.Sock+w.v6Saddr, s.Sock+w.v6Daddr
	default:
		s.V6Reason = "(cannot get IPv6 addresses)"
		return s, true, nil
	}
	var a, d [16]byte
	if err := r.mem.ReadVirt(a[:], src); err != nil {
		return s, true, nil
	}
	if err := r.mem.ReadVirt(d[:], dst); err != nil {
		return s, true, nil
	}
	s.V6, s.V6Saddr, s.V6Daddr = true, a, d
	return s, true, nil
}
