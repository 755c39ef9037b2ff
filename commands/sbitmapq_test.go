package commands

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"gocrash/kernel"
)

// sbitmapqGoldens are crash 8.0.6's sbitmapq answers recorded on every
// committed dump (record.sh; mkdump.sh's CRASH_CMDS): {sbq} is the
// sbitmap_queue of the first disk's (virtio-blk vda's) hardware queue 0
// tags, {staticrqs} that tag set's request pointers, {sbq510} the 5.10
// spelling (bitmap_tags a pointer), which on these 6.x kernels is the
// struct's "{" and crash's "invalid command argument". Every committed
// kernel (6.1.y, 6.12) lacks sbq_wait_state.wait_cnt: crash stops at the
// wait queues with its missing-offset error, and gocrash prints the same.
// The disks were idle at the panic (no bit allocated), so -s lists none.
var sbitmapqGoldens = []string{
	"sbitmapq", "sbitmapq {sbq}", "sbitmapq -v {sbq}", "sbitmapq -x {sbq}", "sbitmapq -d {sbq}",
	"sbitmapq -s request.tag,cmd_flags -a {staticrqs} -p {sbq}", "sbitmapq -s request -a {staticrqs} -p {sbq}",
	"sbitmapq {sbq510}", "sbitmapq -v {sbq510}", "sbitmapq 0", "sbitmapq -x -d {sbq}",
}

// checkRecorded runs cmds (placeholders resolved) on one format of every
// committed dump and compares each with crash's recorded answer; getopt's
// complaints go to stderr, which a recorded answer does not keep. A
// command whose placeholder has no value on a dump ({modsym} without the
// test module) was not asked there.
func checkRecorded(t *testing.T, cmds []string) {
	compared := map[string]int{}
	for _, d := range onePerDump(t) {
		t.Run(d.Name, func(t *testing.T) {
			s := openTestbed(t, d)
			defer s.Close()
			s.Stderr = io.Discard
			for _, cmd := range cmds {
				line, err := d.Resolve(cmd)
				if err != nil {
					t.Logf("%s: not asked here: %v", cmd, err)
					continue
				}
				want, ok := recorded(t, d, cmd)
				if !ok {
					continue
				}
				compared[cmd]++
				if got := runCmd(t, s, line); got != want {
					t.Errorf("%s (%s) differs from crash:\n%s", cmd, line, lineDiff(want, got))
				}
			}
		})
	}
	for _, cmd := range cmds {
		if compared[cmd] == 0 && !strings.Contains(cmd, "{modsym}") {
			t.Errorf("%s: compared on no dump", cmd)
		}
	}
}

func TestSbitmapqGoldens(t *testing.T) { checkRecorded(t, sbitmapqGoldens) }

// TestSbitmapQueueFull: the whole display, wait queues and bitmap
// included, which no committed kernel reaches in crash (they lack
// sbq_wait_state.wait_cnt). The queue is crash 8.0.6's own example (its
// "help sbitmapq", an iSCSI target session's tag pool on a kernel with
// wait_cnt): 136 tags in five 32-bit words, tags 76 and 77 allocated, 13
// freed but not yet cleared. crash counts each bit of a word shorter than
// 64 bits twice (bitmap_weight's last-word term), hence its busy = 4 and
// cleared = 26 for 2 and 13.
func TestSbitmapQueueFull(t *testing.T) {
	q := &kernel.SbitmapQueue{
		Depth: 136, Shift: 5, MapNr: 5, HasCleared: true,
		Words: []kernel.SbitmapWord{
			{Word: 0xfff, Cleared: 0xfff}, // 12 freed, not yet cleared
			{Word: 0x1, Cleared: 0x1},     // and one more
			{Word: 1<<12 | 1<<13},         // tags 76, 77
			{}, {},
		},
		AllocHint:   []uint32{74, 36, 123, 101},
		WakeBatch:   8,
		HasWsActive: true,
		Ws: []kernel.SbqWaitState{
			{WaitCnt: 8}, {WaitCnt: 8}, {WaitCnt: 8}, {WaitCnt: 8},
			{WaitCnt: 8}, {WaitCnt: 8}, {WaitCnt: 8}, {WaitCnt: 8},
		},
		HasRoundRobin:      true,
		HasMinShallowDepth: true, MinShallowDepth: 4294967295,
	}
	want := `depth = 136
busy = 4
cleared = 26
bits_per_word = 32
map_nr = 5
alloc_hint = {74, 36, 123, 101}
wake_batch = 8
wake_index = 0
ws_active = 0
ws = {
	{ .wait_cnt = 8, .wait = inactive },
	{ .wait_cnt = 8, .wait = inactive },
	{ .wait_cnt = 8, .wait = inactive },
	{ .wait_cnt = 8, .wait = inactive },
	{ .wait_cnt = 8, .wait = inactive },
	{ .wait_cnt = 8, .wait = inactive },
	{ .wait_cnt = 8, .wait = inactive },
	{ .wait_cnt = 8, .wait = inactive },
}
round_robin = 0
min_shallow_depth = 4294967295

00000000: 0000 0000 0000 0000 0030 0000 0000 0000
00000010: 00
`
	var b strings.Builder
	bw := bufio.NewWriter(&b)
	if err := writeSbitmapQueue(bw, q); err != nil {
		t.Fatal(err)
	}
	bw.Flush()
	if b.String() != want {
		t.Errorf("differs from crash's help example:\n%s", lineDiff(want, b.String()))
	}
	if got := q.SetBits(); len(got) != 2 || got[0] != 76 || got[1] != 77 {
		t.Errorf("SetBits = %v, want crash's example's 76 and 77", got)
	}
}
