package ns

// The wire codec of ns.run: Lua values to bytes and back (see below).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// The wire form of Lua values between ctrsh and a chunk run inside a
// container (ns.run). It is lossless where JSON is not: integer and string
// keys stay apart, mixed and sparse tables keep their shape, strings may hold
// any bytes. Functions and userdata travel as their tostring form; a table
// that contains itself is cut with the string "<cycle>".
const (
	wireNil byte = iota
	wireFalse
	wireTrue
	wireNumber
	wireString
	wireTable
)

// maxWireDepth bounds the nesting of tables, both ways.
const maxWireDepth = 200

func encodeValues(L *lua.LState, vals []lua.LValue) ([]byte, error) {
	var b bytes.Buffer
	b.Write(binary.AppendUvarint(nil, uint64(len(vals))))
	for _, v := range vals {
		if err := encodeValue(L, &b, v, 0, map[*lua.LTable]bool{}); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

func encodeValue(L *lua.LState, b *bytes.Buffer, v lua.LValue, depth int, seen map[*lua.LTable]bool) error {
	switch v := v.(type) {
	case *lua.LNilType:
		b.WriteByte(wireNil)
	case lua.LBool:
		if v {
			b.WriteByte(wireTrue)
		} else {
			b.WriteByte(wireFalse)
		}
	case lua.LNumber:
		b.WriteByte(wireNumber)
		b.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(float64(v))))
	case lua.LString:
		writeString(b, string(v))
	case *lua.LTable:
		if seen[v] {
			writeString(b, "<cycle>")
			return nil
		}
		if depth >= maxWireDepth {
			return fmt.Errorf("tables nested deeper than %d", maxWireDepth)
		}
		seen[v] = true
		defer delete(seen, v)
		keys := luax.SortedKeys(v)
		b.WriteByte(wireTable)
		b.Write(binary.AppendUvarint(nil, uint64(len(keys))))
		for _, k := range keys {
			if err := encodeValue(L, b, k, depth+1, seen); err != nil {
				return err
			}
			if err := encodeValue(L, b, v.RawGet(k), depth+1, seen); err != nil {
				return err
			}
		}
	default:
		writeString(b, luax.ToString(L, v))
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) {
	b.WriteByte(wireString)
	b.Write(binary.AppendUvarint(nil, uint64(len(s))))
	b.WriteString(s)
}

var errWire = errors.New("malformed values")

func decodeValues(L *lua.LState, data []byte) ([]lua.LValue, error) {
	d := decoder{L: L, b: data}
	n, err := d.uvarint()
	if err != nil || n > uint64(len(data)) {
		return nil, errWire
	}
	out := make([]lua.LValue, 0, n)
	for i := uint64(0); i < n; i++ {
		v, err := d.value(0)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(d.b) != 0 {
		return nil, errWire
	}
	return out, nil
}

type decoder struct {
	L *lua.LState
	b []byte
}

func (d *decoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		return 0, errWire
	}
	d.b = d.b[n:]
	return v, nil
}

func (d *decoder) value(depth int) (lua.LValue, error) {
	if len(d.b) == 0 || depth > maxWireDepth {
		return nil, errWire
	}
	tag := d.b[0]
	d.b = d.b[1:]
	switch tag {
	case wireNil:
		return lua.LNil, nil
	case wireFalse:
		return lua.LFalse, nil
	case wireTrue:
		return lua.LTrue, nil
	case wireNumber:
		if len(d.b) < 8 {
			return nil, errWire
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
		return lua.LNumber(f), nil
	case wireString:
		n, err := d.uvarint()
		if err != nil || n > uint64(len(d.b)) {
			return nil, errWire
		}
		s := string(d.b[:n])
		d.b = d.b[n:]
		return lua.LString(s), nil
	case wireTable:
		n, err := d.uvarint()
		if err != nil || n > uint64(len(d.b)) {
			return nil, errWire
		}
		t := d.L.CreateTable(0, int(n))
		for i := uint64(0); i < n; i++ {
			k, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if k == lua.LNil {
				return nil, errWire
			}
			if f, ok := k.(lua.LNumber); ok && math.IsNaN(float64(f)) {
				return nil, errWire
			}
			t.RawSet(k, v)
		}
		return t, nil
	}
	return nil, errWire
}
