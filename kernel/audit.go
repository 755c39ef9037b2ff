package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"gocrash/symbols"
)

// ---- the kernel's audit queues (crash's log -a) ----

// ErrNoAudit is AuditLog's error on a kernel without audit queues.
var ErrNoAudit = errors.New("the kernel has no audit queues")

// maxAuditRecords bounds a walk of an audit queue against a corrupt list.
const maxAuditRecords = 1 << 16

// An AuditRecord is one netlink message queued for auditd.
type AuditRecord struct {
	Queue string // the sk_buff_head symbol it was found in
	Type  uint16 // nlmsghdr.nlmsg_type
	Text  string // the payload up to its first NUL
}

// AuditLog is what crash's dump_audit() finds: the messages still queued
// for the user-space audit daemon.
type AuditLog struct {
	// Queued is the sum of the queues' qlen (crash's "empty" test); a
	// message too short for its header is counted but not in Records.
	Queued  int
	Records []AuditRecord
}

// AuditLog reads the audit queues (audit_skb_hold_queue and
// audit_skb_queue before 4.11, audit_hold_queue, audit_retry_queue and
// audit_queue since: kernel/audit.c). On a damaged queue it returns what
// was read before, with an error naming the queue.
func (k *Kernel) AuditLog(ctx context.Context) (*AuditLog, error) {
	var queues []string
	switch {
	case k.HasSymbol("audit_skb_queue"):
		queues = []string{"audit_skb_hold_queue", "audit_skb_queue"}
	case k.HasSymbol("audit_queue"):
		queues = []string{"audit_hold_queue", "audit_retry_queue", "audit_queue"}
	default:
		return nil, ErrNoAudit
	}
	out := &AuditLog{}
	for _, q := range queues {
		addr, ok := k.SymbolAddr(q)
		if !ok {
			continue
		}
		n, err := k.auditQueue(ctx, out, q, addr)
		if err != nil {
			return out, fmt.Errorf("%s: %w", q, err)
		}
		out.Queued += n
	}
	return out, nil
}

func (k *Kernel) auditQueue(ctx context.Context, out *AuditLog, name string, head uint64) (int, error) {
	lr := &layoutReader{k: k}
	off := func(typ, member string) uint64 { return uint64(lr.off(typ, member)) }
	oQlen, oNext := off("sk_buff_head", "qlen"), off("sk_buff_head", "next")
	oLen, oData, oSkbNext := off("sk_buff", "len"), off("sk_buff", "data"), off("sk_buff", "next")
	oType := off("nlmsghdr", "nlmsg_type")
	hdrLen, serr := k.LayoutSize("nlmsghdr")
	if err := errors.Join(lr.err, serr); err != nil {
		return 0, err
	}
	qlen, err := k.ReadU32(head + oQlen)
	if err != nil || qlen == 0 {
		return 0, err
	}
	p, err := k.ReadU64(head + oNext)
	if err != nil {
		return 0, err
	}
	if p == 0 {
		return 0, errors.New("sk_buff_head.next is NULL")
	}
	mem := k.memory()
	// NLMSG_DATA: the payload follows the header rounded up to 4.
	payload := uint64(hdrLen+3) &^ 3
	for n := 0; p != head; n++ {
		if n >= maxAuditRecords || n > int(qlen) {
			return n, fmt.Errorf("queue at %#x does not lead back to its head after %d buffers", head, n)
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		l, err := k.ReadU32(p + oLen)
		if err != nil {
			return n, err
		}
		data, err := k.ReadU64(p + oData)
		if err != nil {
			return n, err
		}
		if data == 0 {
			return n, fmt.Errorf("sk_buff at %#x: data is NULL", p)
		}
		var tb [2]byte
		if err := mem.ReadVirt(tb[:], data+oType); err != nil {
			return n, err
		}
		if uint64(l) >= payload && uint64(l)-payload <= 1<<20 {
			msg := make([]byte, uint64(l)-payload)
			if err := mem.ReadVirt(msg, data+payload); err != nil {
				return n, err
			}
			out.Records = append(out.Records, AuditRecord{Queue: name, Type: binary.LittleEndian.Uint16(tb[:]), Text: symbols.CString(msg)})
		}
		if p, err = k.ReadU64(p + oSkbNext); err != nil {
			return n, err
		}
	}
	return int(qlen), nil
}

// ---- the per-cpu printk_safe buffers (crash's log -s; 4.11-5.14) ----

// ErrPrintkSafeLayout is PrintkSafe's error when the kernel has the
// buffers but struct printk_safe_seq_buf is not the layout crash reads.
var ErrPrintkSafeLayout = errors.New("struct printk_safe_seq_buf has an unknown layout")

// PrintkSafeBuffers are one kind of per-cpu printk_safe_seq_buf
// (nmi_print_seq or safe_print_seq), one entry a cpu.
type PrintkSafeBuffers struct {
	Name string
	CPUs []PrintkSafeBuffer
}

// A PrintkSafeBuffer is one cpu's printk_safe_seq_buf.
type PrintkSafeBuffer struct {
	CPU         int
	Addr        uint64
	Len         int32 // len: the bytes of buffer in use
	MessageLost int32
	Text        []byte // the first Len bytes of buffer; nil when Len <= 0
}

// PrintkSafe reads the text still in the per-cpu nmi_print_seq and
// safe_print_seq buffers, not yet flushed to the log (crash's
// dump_printk_safe_seq_buf). A kernel without them (every kernel since
// 5.15) gives nil and no error. On a read error the buffers read so far
// are returned with it.
func (k *Kernel) PrintkSafe(ctx context.Context) ([]PrintkSafeBuffers, error) {
	// The buffers' symbols are asked for first: proving the struct absent
	// from DWARF (every kernel since 5.15) would index every compile unit.
	_, nmi := k.SymbolAddr("nmi_print_seq")
	_, safe := k.SymbolAddr("safe_print_seq")
	if !nmi && !safe {
		return nil, nil
	}
	t, err := k.Layouts()
	if err != nil {
		return nil, nil
	}
	if _, err := t.Lookup("struct printk_safe_seq_buf"); err != nil {
		return nil, nil
	}
	lenM, err1 := t.Member("printk_safe_seq_buf", "len")
	lostM, err2 := t.Member("printk_safe_seq_buf", "message_lost")
	bufM, err3 := t.Member("printk_safe_seq_buf", "buffer")
	var bufSize int64
	if err3 == nil {
		bufSize, err3 = t.Size(bufM.Type)
	}
	if err := errors.Join(err1, err2, err3); err != nil || bufSize <= 0 || bufSize > 1<<20 {
		return nil, ErrPrintkSafeLayout
	}
	ncpu, err := k.NumCPUs()
	if err != nil {
		return nil, err
	}
	var out []PrintkSafeBuffers
	for _, name := range []string{"nmi_print_seq", "safe_print_seq"} {
		base, ok := k.SymbolAddr(name)
		if !ok {
			continue
		}
		out = append(out, PrintkSafeBuffers{Name: name})
		bufs := &out[len(out)-1]
		for cpu := 0; cpu < ncpu; cpu++ {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			pcpu, err := k.PerCPUOffset(cpu)
			if err != nil {
				return out, err
			}
			b := PrintkSafeBuffer{CPU: cpu, Addr: base + pcpu}
			n, err := k.ReadU32(b.Addr + uint64(lenM.Offset))
			if err != nil {
				return out, fmt.Errorf("%s len of cpu %d at %#x: %w", name, cpu, b.Addr, err)
			}
			lost, err := k.ReadU32(b.Addr + uint64(lostM.Offset))
			if err != nil {
				return out, fmt.Errorf("%s message_lost of cpu %d at %#x: %w", name, cpu, b.Addr, err)
			}
			b.Len, b.MessageLost = int32(n), int32(lost)
			// Kept before its text is read: a cpu whose buffer cannot be
			// read still has its len and message_lost.
			bufs.CPUs = append(bufs.CPUs, b)
			if b.Len > 0 {
				buf := make([]byte, bufSize)
				if err := k.memory().ReadVirt(buf, b.Addr+uint64(bufM.Offset)); err != nil {
					return out, fmt.Errorf("%s buffer of cpu %d at %#x: %w", name, cpu, b.Addr+uint64(bufM.Offset), err)
				}
				if int64(n) < bufSize {
					buf = buf[:n]
				}
				bufs.CPUs[len(bufs.CPUs)-1].Text = buf
			}
		}
	}
	return out, nil
}
