package callbacks

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/myelin-go/myelin/model"
)

// CSVLogger writes one row per epoch to the file at Path: the 0-based
// epoch, then every value of the epoch's logs, in columns named by a
// header line and sorted by name, as Keras 3's CSVLogger does:
//
//	epoch,accuracy,loss,val_accuracy,val_loss
//	0,0.8125,0.5279,0.85,0.4412
//
// Values are written in the shortest form that parses back to the same
// float64. The columns are those of the first row; a later epoch without
// one of them gets "NA" there, and keys that appear later are left out.
//
// Without Append the file is truncated when training begins; with it,
// rows are added at the end and the header is written only if the file
// was empty. Each row is written with its own open, write and close, so
// the file is complete after every epoch, whatever happens next.
//
// A resumed Fit continues the file from the checkpoint: rows that the
// interrupted run wrote after the checkpoint (epochs it will train again)
// are cut off first, so the file ends as the uninterrupted run's would,
// with one header and one row per epoch.
type CSVLogger struct {
	model.BaseCallback
	Path      string
	Append    bool
	Separator string // "" means ","

	opened  bool     // the file was prepared for this run
	offset  int64    // the file's length after the last row written, or when prepared
	keys    []string // the columns, fixed by the first row
	restore *csvState
	guard   epochGuard
}

// OnTrainBegin checks the settings and resets the state. The file is
// prepared at the first epoch's beginning, after a resumed Fit has
// restored the callback's state.
func (c *CSVLogger) OnTrainBegin(*model.Sequential) error {
	if c.Path == "" {
		return errors.New("callbacks: CSVLogger: Path is empty")
	}
	if strings.ContainsAny(c.Separator, "\"\r\n") {
		return fmt.Errorf("callbacks: CSVLogger: separator %q holds a quote or a line break", c.Separator)
	}
	c.opened, c.offset, c.keys, c.restore, c.guard = false, 0, nil, nil, epochGuard{}
	return nil
}

// OnEpochBegin prepares the file at the first epoch: truncated, kept for
// appending, or cut back to the checkpoint's length.
func (c *CSVLogger) OnEpochBegin(epoch int) error {
	if err := c.guard.begin("CSVLogger", epoch); err != nil {
		return err
	}
	if c.opened {
		return nil
	}
	if err := c.prepare(); err != nil {
		return fmt.Errorf("callbacks: CSVLogger: %w", err)
	}
	c.opened = true
	return nil
}

func (c *CSVLogger) prepare() error {
	if st := c.restore; st != nil && st.Offset >= 0 {
		fi, err := os.Stat(c.Path)
		if err != nil {
			return err
		}
		if fi.Size() < st.Offset {
			return fmt.Errorf("%s holds %d bytes, fewer than the %d the checkpoint's run had written", c.Path, fi.Size(), st.Offset)
		}
		c.offset, c.keys = st.Offset, st.Keys
		return os.Truncate(c.Path, st.Offset)
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if c.Append {
		flag = os.O_WRONLY | os.O_CREATE
	}
	f, err := os.OpenFile(c.Path, flag, 0o644)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil {
		c.offset = fi.Size()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// OnEpochEnd appends the epoch's row, after the header if the file is
// empty.
func (c *CSVLogger) OnEpochEnd(epoch int, logs model.Logs) error {
	c.guard.ended(epoch)
	sep := orDefault(c.Separator, ",")
	var b []byte
	if c.keys == nil {
		c.keys = slices.Sorted(maps.Keys(logs))
		if c.offset == 0 {
			b = append(b, "epoch"...)
			for _, k := range c.keys {
				b = append(append(b, sep...), quoteCSV(k, sep)...)
			}
			b = append(b, '\n')
		}
	}
	b = strconv.AppendInt(b, int64(epoch), 10)
	for _, k := range c.keys {
		b = append(b, sep...)
		if v, ok := logs[k]; ok {
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		} else {
			b = append(b, "NA"...)
		}
	}
	b = append(b, '\n')
	f, err := os.OpenFile(c.Path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("callbacks: CSVLogger: %w", err)
	}
	n, err := f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	c.offset += int64(n)
	if err != nil {
		return fmt.Errorf("callbacks: CSVLogger: %w", err)
	}
	return nil
}

// quoteCSV quotes a column name that holds the separator or a quote.
func quoteCSV(s, sep string) string {
	if !strings.Contains(s, sep) && !strings.ContainsAny(s, "\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

type csvState struct {
	Offset    int64    `json:"offset"` // -1: the file was not prepared yet
	Keys      []string `json:"keys"`
	NextEpoch int      `json:"next_epoch"`
}

// CheckpointState returns the file's length and its columns.
func (c *CSVLogger) CheckpointState() ([]byte, error) {
	st := csvState{Offset: c.offset, Keys: c.keys, NextEpoch: c.guard.next}
	if !c.opened {
		st.Offset = -1
	}
	return encodeState(st, nil)
}

// RestoreCheckpointState restores what CheckpointState saved; the file is
// cut back to the saved length when the first epoch begins.
func (c *CSVLogger) RestoreCheckpointState(b []byte) error {
	var st csvState
	if _, err := decodeState(b, &st); err != nil {
		return fmt.Errorf("callbacks: CSVLogger: %w", err)
	}
	c.restore = &st
	c.guard = epochGuard{next: st.NextEpoch, resumed: true}
	return nil
}
