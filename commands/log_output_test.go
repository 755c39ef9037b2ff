package commands

import (
	"bufio"
	"bytes"
	"context"
	"strings"
	"testing"

	"gocrash/internal/testbed"
	"gocrash/kernel"
)

// TestPrintkLogOutput checks crash's dump_log_entry() layout for printk_log
// records (the kernel's walkPrintkLog gives them; its own tests check the
// walk): the 8-wide caller column, the level after it, continuation lines
// and dictionary lines indented under the text.
func TestPrintkLogOutput(t *testing.T) {
	recs := []kernel.LogRecord{
		{TsNsec: 1_500_000_000, Level: 6, CallerID: 1, HasCaller: true, Text: []byte("first line\nsecond line"),
			Dict: []byte("SUBSYSTEM=pci\x00DEVICE=+pci:0000:00:01.0")},
		{TsNsec: 12_345_678_901, Level: 4, CallerID: 0x80000001, HasCaller: true, Text: []byte("cpu \x01message")},
	}
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	o := logOutput{flags: logFlags{caller: true, level: true, dict: true}, pidChars: pidCharsDefault}
	for i := range recs {
		o.record(w, &recs[i])
	}
	w.Flush()
	want := "[    1.500000] [      T1] <6>first line\n" +
		"                             second line\n" +
		"                             SUBSYSTEM=pci\n" +
		"                             DEVICE=+pci:0000:00:01.0\n" +
		"[   12.345678] [      C1] <4>cpu .message\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// FuzzLogRecordOutput prints fuzzed records with every option: one line
// a record, one more for each newline of its text, subsystem and device and
// for each pair of its dictionary, never a panic.
// Seeds: the test bed's records.
func FuzzLogRecordOutput(f *testing.F) {
	d := testbed.Open(f, testbed.DefaultName, testbed.DefaultFormat)
	s := openTestbed(f, d)
	l, err := s.Log(context.Background())
	s.Close()
	if err != nil {
		f.Fatal(err)
	}
	for i, r := range l.Records {
		if i%16 == 0 {
			f.Add(r.TsNsec, r.Level, r.CallerID, r.Text, r.Subsystem+"\x00"+r.Device)
		}
	}
	f.Fuzz(func(t *testing.T, ts uint64, level uint8, caller uint32, text []byte, dev string) {
		sub, device, _ := strings.Cut(dev, "\x00")
		r := kernel.LogRecord{TsNsec: ts, Level: level & 7, CallerID: caller, HasCaller: true, Text: text,
			Subsystem: sub, Device: device, Dict: text}
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		o := logOutput{flags: logFlags{level: true, caller: true, dict: true}, pidChars: 8}
		o.record(w, &r)
		w.Flush()
		nl := func(s string) int { return strings.Count(s, "\n") }
		want := 1 + bytes.Count(text, []byte("\n"))
		if sub != "" {
			want += 1 + nl(sub)
		}
		if device != "" {
			want += 1 + nl(device)
		}
		if len(text) > 0 {
			want += 1 + bytes.Count(text, []byte{0}) // the dictionary: a line a NUL-separated pair
		}
		if got := nl(b.String()); got != want || !strings.HasSuffix(b.String(), "\n") {
			t.Fatalf("%d newlines, want %d:\n%q", got, want, b.String())
		}
	})
}
