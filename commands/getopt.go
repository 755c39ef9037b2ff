package commands

// getopt walks a command's options as crash's commands see them through
// getopt(3): options may be grouped ("-8x"), an option that takes an
// argument takes the rest of its word or else the next word ("-c1",
// "-c 1"), and the options end at "--" or at the first word that is not
// one — or, with permute set, as glibc's getopt permutes by default:
// the other words are set aside and the options after them still read.
type getopt struct {
	permute  bool
	operands []string // the words permute set aside

	cmd  string
	args []string
	i    int  // the word being read
	j    int  // the next byte of args[i]; 0 before the word is started
	done bool // "--" seen
	c    byte // the option next returned last
}

func newGetopt(cmd string, args []string) *getopt { return &getopt{cmd: cmd, args: args} }

// next returns the next option letter; ok is false when the options end.
func (g *getopt) next() (c byte, ok bool) {
	for !g.done && g.i < len(g.args) {
		a := g.args[g.i]
		if g.j == 0 {
			if a == "--" {
				g.i++
				g.done = true
				break
			}
			if len(a) < 2 || a[0] != '-' {
				if g.permute {
					g.operands = append(g.operands, a)
					g.i++
					continue
				}
				break
			}
			g.j = 1
		}
		if g.j < len(a) {
			g.c = a[g.j]
			g.j++
			return g.c, true
		}
		g.i, g.j = g.i+1, 0
	}
	return 0, false
}

// arg returns the argument of the option next returned last.
func (g *getopt) arg() (string, error) {
	if a := g.args[g.i]; g.j < len(a) {
		v := a[g.j:]
		g.i, g.j = g.i+1, 0
		return v, nil
	}
	if g.i+1 < len(g.args) {
		v := g.args[g.i+1]
		g.i, g.j = g.i+2, 0
		return v, nil
	}
	return "", usageErr(g.cmd, "option requires an argument -- '%c'", g.c)
}

// rest returns the words after the options (valid once next has said
// so), after those permute set aside.
func (g *getopt) rest() []string {
	if g.permute {
		return append(append([]string(nil), g.operands...), g.args[g.i:]...)
	}
	return g.args[g.i:]
}
