package repl

import (
	"slices"
	"strings"
	"testing"

	"gocrash/commands"
	"gocrash/internal/testbed"
)

// completions are the words Do offers for line (the word being completed
// with each suffix, readline's contract), a lone one without its space.
func completions(c *Completer, line string) []string {
	suffixes, n := c.Do([]rune(line), len([]rune(line)))
	word := string([]rune(line)[len([]rune(line))-n:])
	var out []string
	for _, s := range suffixes {
		out = append(out, strings.TrimSuffix(word+string(s), " "))
	}
	return out
}

// TestCompleteTypesAndMembers: after struct, union, p, whatis and ptype the
// shell offers the vmlinux's struct and union names, and member names after
// a '.' or "->" of a struct name or of an expression, on a 6.1 and a 6.12
// dump, with GOCRASH_CACHE=off (the first session on a vmlinux: the names
// come from its BTF, CompletionNames, not from indexing all its DWARF). The
// expected words are the kernels' facts: include/linux/sched.h's
// task_struct members starting with "pi" (the same in 6.1 and 6.12),
// sched_entity's vruntime, list_head's next and prev, struct thread_info's
// flags, union __sifields' members (include/uapi/asm-generic/siginfo.h),
// the one struct whose name starts with list_he and ZSTD's struct names;
// the symbols are nm's (init_task, jiffies_64, jiffies_64_to_clock_t...).
func TestCompleteTypesAndMembers(t *testing.T) {
	t.Setenv("GOCRASH_CACHE", "off")
	pi := []string{"pi_blocked_on", "pi_lock", "pi_state_cache", "pi_state_list", "pi_top_task", "pi_waiters", "pid", "pid_links"}
	with := func(stem string, names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = stem + n
		}
		return out
	}
	cases := []struct {
		line string
		want []string // nil: none
	}{
		{"struct list_he", []string{"list_head"}},
		{"union __sif", []string{"__sifields"}},
		{"struct __sif", nil}, // a union, not a struct
		{"*list_he", []string{"*list_head"}},
		{"struct task_struct.pi", with("task_struct.", pi...)},
		{"struct task_struct.pid,comm,pi", with("task_struct.pid,comm,", pi...)},
		{"struct task_struct.se.vrun", []string{"task_struct.se.vruntime"}},
		{"union __sifields._si", []string{"__sifields._sigchld", "__sifields._sigfault", "__sifields._sigpoll", "__sifields._sigsys"}},
		{"struct task_struct.nosuch.", nil},
		{"struct -o list_he", []string{"list_head"}},
		{"struct -x -l list_head.ne", []string{"list_head.next"}},
		{"struct -c 2 list_he", []string{"list_head"}},
		{"struct -c list_he", nil}, // -c's count
		{"p init_task.pi", with("init_task.", pi...)},
		{"p/x init_task.pi", with("init_task.", pi...)},
		{"p init_task.se.vrun", []string{"init_task.se.vruntime"}},
		{"p init_task.tasks.next->", []string{"init_task.tasks.next->next", "init_task.tasks.next->prev"}},
		{"p &init_task.thread_info.fla", []string{"&init_task.thread_info.flags"}},
		{"p ((struct task_struct *)0xffff888000000000)->se.vrun", []string{"*)0xffff888000000000)->se.vruntime"}},
		{"p init_task.comm.", nil}, // a char array
		{"p jiffies.", nil},
		{"p nosuch.", nil},
		{"p init_task.nosuch.", nil},
		{"p (struct list_he", []string{"list_head"}},
		{"p sizeof(union __sif", []string{"__sifields"}},
		{"whatis struct list_he", []string{"list_head"}},
		{"whatis init_task.tasks.ne", []string{"init_task.tasks.next"}},
		{"ptype init_task.pi", with("init_task.", pi...)},
		{"p init_tas", []string{"init_task"}},
		{"p &init_tas", []string{"&init_task"}},
		{"p -x jiffies_6", []string{"jiffies_64", "jiffies_64_to_clock_t"}},
	}
	for _, d := range []testbed.Dump{testbed.Open(t, "6.1-sysrq", "elf"), testbed.Open(t, "6.12-sysrq", "zstd")} {
		t.Run(d.Name, func(t *testing.T) {
			s, err := commands.Open(d.Vmlinux, d.Vmcore, commands.Options{ZeroExcluded: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c := &Completer{Session: s}
			for _, tc := range cases {
				if got := completions(c, tc.line); !slices.Equal(got, tc.want) {
					t.Errorf("%q offers %q, want %q", tc.line, got, tc.want)
				}
			}
			// whatis and ptype take a type or a symbol: both kinds.
			for _, cmd := range []string{"whatis", "ptype"} {
				got := completions(c, cmd+" task_stru")
				if !slices.Contains(got, "task_struct") || !slices.Contains(got, "task_struct_cachep") {
					t.Errorf("%s task_stru offers %q, want task_struct (the struct) and task_struct_cachep (the variable)", cmd, got)
				}
				if got := completions(c, cmd+" pid_"); !slices.Contains(got, "pid_t") {
					t.Errorf("%s pid_ offers %q, want the typedef pid_t", cmd, got)
				}
			}
			// Every struct name: "struct " lists at most maxCandidates,
			// "struct ZSTD_" the zstd library's.
			if got := completions(c, "struct "); len(got) != maxCandidates {
				t.Errorf("struct <TAB> offers %d names, want %d", len(got), maxCandidates)
			}
			if got := completions(c, "struct ZSTD_"); len(got) == 0 || !strings.HasPrefix(got[0], "ZSTD_") {
				t.Errorf("struct ZSTD_ offers %q", got)
			}
		})
	}
}
