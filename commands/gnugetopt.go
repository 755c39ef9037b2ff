package commands

import "strings"

// gnuOpt is one option gnuGetopt read: its letter and, for an option
// that takes one, its argument.
type gnuOpt struct {
	c   byte
	arg string
}

// gnuGetopt reads options as glibc's getopt(3) does for crash, with its
// default permutation: options may follow the other words ("list
// task_struct.tasks -h ADDR -S ..."), a word "--" ends the options, and
// spec is getopt's optstring (a letter followed by ':' takes an argument,
// from the rest of its word or the next word). An unknown option or a
// missing argument is a usage error without a reason line: crash's
// getopt writes that to stderr, and its answer on the command's output is
// the usage alone.
func gnuGetopt(cmd string, args []string, spec string) (opts []gnuOpt, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			k := strings.IndexByte(spec, c)
			if k < 0 || c == ':' {
				return nil, nil, &UsageError{Cmd: cmd}
			}
			if k+1 < len(spec) && spec[k+1] == ':' {
				switch {
				case j+1 < len(a):
					opts = append(opts, gnuOpt{c, a[j+1:]})
				case i+1 < len(args):
					i++
					opts = append(opts, gnuOpt{c, args[i]})
				default:
					return nil, nil, &UsageError{Cmd: cmd}
				}
				j = len(a) // the argument ends the word
				continue
			}
			opts = append(opts, gnuOpt{c: c})
		}
	}
	return opts, rest, nil
}
