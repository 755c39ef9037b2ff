package commands

import (
	"errors"
	"strings"
)

// WaitqJSON is waitq's answer: the wait queue head and its waiting tasks.
type WaitqJSON struct {
	Queue Addr            `json:"queue" desc:"the wait_queue_head's address"`
	Name  string          `json:"name,omitempty" desc:"the symbol given, when the queue was named by one"`
	Tasks []WaitqTaskJSON `json:"tasks" desc:"each waiting task, in queue order (empty: the queue is empty)"`
}

// WaitqTaskJSON is one waiting task's header line.
type WaitqTaskJSON struct {
	PID     int64  `json:"pid" desc:"PID"`
	Task    Addr   `json:"task" desc:"TASK"`
	CPU     int    `json:"cpu" desc:"CPU"`
	Command string `json:"command" desc:"COMMAND"`
}

// waitqJSON is waitq's JSON, for every form of its argument.
func waitqJSON(s *Session, args []string) (any, error) {
	var out strings.Builder
	j := &WaitqJSON{}
	if err := waitqInto(s, args, &out, j); err != nil {
		return nil, err
	}
	if j.Tasks == nil {
		// waitq printed a message instead ("must supply an address",
		// "... is not a member of ...") or nothing (a user address).
		if m := strings.TrimSpace(out.String()); m != "" {
			return nil, errors.New(m)
		}
		return nil, errors.New("not a kernel wait queue address")
	}
	return j, nil
}
