package commands

import "errors"

// The JSON forms of dev and net: their default formats, from the walkers
// and helpers (opsName, netAddrs) their text uses.

// DevJSON is dev's two tables.
type DevJSON struct {
	Char  []CharDevJSON  `json:"chrdevs" desc:"the CHRDEV table: chrdevs[], each major's ranges"`
	Block []BlockDevJSON `json:"blkdevs" desc:"the BLKDEV table: major_names[]"`
	// As dev prints the lines it read and then the error.
	Errors []FieldErr `json:"errors,omitempty" desc:"a table read only in part or not at all (field CHRDEV or BLKDEV): the lines read are above"`
}

// CharDevJSON is one CHRDEV line.
type CharDevJSON struct {
	Major      int    `json:"major" desc:"CHRDEV: the major number"`
	Name       string `json:"name" desc:"NAME"`
	Cdev       Addr   `json:"cdev" desc:"CDEV: the struct cdev; 0 when there is none (the text's (none))"`
	Fops       Addr   `json:"fops" desc:"cdev->ops; 0 when there is no cdev"`
	Operations string `json:"operations" desc:"OPERATIONS: fops's symbol, else its address; empty when there is no cdev"`
}

// BlockDevJSON is one BLKDEV line.
type BlockDevJSON struct {
	Major      int    `json:"major" desc:"BLKDEV: the major number"`
	Name       string `json:"name" desc:"NAME; empty when unreadable (the text's (unknown))"`
	Gendisk    Addr   `json:"gendisk" desc:"GENDISK: the first disk of the major with operations; 0 when none (the text's (none))"`
	Fops       Addr   `json:"fops" desc:"the gendisk's fops; 0 when none"`
	Operations string `json:"operations" desc:"OPERATIONS: fops's symbol, else its address; empty when none"`
}

func devJSON(s *Session, args []string) (any, error) {
	if len(args) > 0 {
		return nil, jsonOptionsErr("dev", args)
	}
	j := &DevJSON{Char: []CharDevJSON{}, Block: []BlockDevJSON{}}
	chr, err := s.CharDevices(s.Ctx())
	if err != nil {
		j.Errors = append(j.Errors, FieldErr{Field: "CHRDEV", Error: err.Error()})
	}
	blk, err := s.BlockDevices(s.Ctx())
	if err != nil {
		j.Errors = append(j.Errors, FieldErr{Field: "BLKDEV", Error: err.Error()})
	}
	if err := s.Ctx().Err(); err != nil {
		return nil, err
	}
	sym := s.symstrAll()
	for _, d := range chr {
		c := CharDevJSON{Major: d.Major, Name: d.Name}
		if d.Fops != 0 {
			c.Cdev, c.Fops, c.Operations = Addr(d.Cdev), Addr(d.Fops), opsName(sym, d.Fops)
		}
		j.Char = append(j.Char, c)
	}
	for _, d := range blk {
		b := BlockDevJSON{Major: d.Major, Name: d.Name}
		if d.Fops != 0 {
			b.Gendisk, b.Fops, b.Operations = Addr(d.Gendisk), Addr(d.Fops), opsName(sym, d.Fops)
		}
		j.Block = append(j.Block, b)
	}
	return j, nil
}

// NetDeviceJSON is one line of net.
type NetDeviceJSON struct {
	NetDevice Addr     `json:"net_device" desc:"NET_DEVICE: the struct net_device"`
	Name      string   `json:"name" desc:"NAME"`
	Addresses []string `json:"addresses" desc:"IP ADDRESS(ES): the IPv4 addresses, then the IPv6 ones"`
}

// netJSON is net's device list, of PID 0's network namespace as net
// shows it.
func netJSON(s *Session, args []string) (any, error) {
	if len(args) > 0 {
		return nil, jsonOptionsErr("net", args)
	}
	tt, err := s.taskTable()
	if err != nil {
		return nil, err
	}
	swapper := tt.byPID(0)
	if swapper == nil {
		return nil, errors.New("no pid 0 task")
	}
	devs, err := s.NetDevices(s.Ctx(), swapper.Addr)
	if err != nil {
		return nil, err
	}
	out := []NetDeviceJSON{}
	for _, d := range devs {
		out = append(out, NetDeviceJSON{NetDevice: Addr(d.Addr), Name: d.Name, Addresses: netAddrs(d)})
	}
	return out, nil
}
