package crypt

import (
	"crypto/cipher"
	"reflect"
	"unsafe"
)

// zeroSchedule zeroes the expanded key schedule of b in place, when b is a
// pointer to a value made of integers only (arrays and structs of them:
// crypto/aes's and x/crypto/twofish's Block types are), so that no
// pointer the garbage collector tracks is overwritten. It reports whether
// it did.
func zeroSchedule(b cipher.Block) bool {
	v := reflect.ValueOf(b)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return false
	}
	t := v.Type().Elem()
	if !plainData(t, 0) || t.Size() == 0 {
		return false
	}
	clear(unsafe.Slice((*byte)(v.UnsafePointer()), t.Size()))
	return true
}

// plainData reports whether a value of type t holds no pointers: booleans,
// numbers, and arrays and structs of them.
func plainData(t reflect.Type, depth int) bool {
	if depth > 16 {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return plainData(t.Elem(), depth+1)
	case reflect.Struct:
		for i := range t.NumField() {
			if !plainData(t.Field(i).Type, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}
