package crypt

import (
	"reflect"
	"unsafe"
)

// scheduleBytes is the memory of a block cipher's key schedule.
func scheduleBytes(b any) []byte {
	v := reflect.ValueOf(b)
	return unsafe.Slice((*byte)(v.UnsafePointer()), v.Type().Elem().Size())
}
