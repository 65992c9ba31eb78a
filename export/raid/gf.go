package raid

import "encoding/binary"

// Arithmetic in GF(2^8) with the reducing polynomial x^8+x^4+x^3+x^2+1
// (0x11D) and generator 2, as the RAID6 Q syndrome uses (spec §4.5).

var (
	gfExp [512]byte      // gfExp[i] = 2^i, doubled to avoid a modulo
	gfLog [256]byte      // gfLog[x] = log2(x) for x != 0
	gfMul [256][256]byte // gfMul[a][b] = a*b
)

func init() {
	x := 1
	for i := 0; i < 255; i++ {
		gfExp[i] = byte(x)
		gfLog[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11D
		}
	}
	for i := 255; i < len(gfExp); i++ {
		gfExp[i] = gfExp[i-255]
	}
	for a := 1; a < 256; a++ {
		for b := 1; b < 256; b++ {
			gfMul[a][b] = gfExp[int(gfLog[a])+int(gfLog[b])]
		}
	}
}

// gfPow returns g^e for the generator g = 2.
func gfPow(e int) byte { return gfExp[e%255] }

// gfInv returns the multiplicative inverse of a non-zero element.
func gfInv(a byte) byte { return gfExp[255-int(gfLog[a])] }

// xorInto sets dst[i] ^= src[i] for i < len(dst).
func xorInto(dst, src []byte) {
	src = src[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		v := binary.LittleEndian.Uint64(dst[i:]) ^ binary.LittleEndian.Uint64(src[i:])
		binary.LittleEndian.PutUint64(dst[i:], v)
	}
	for ; i < len(dst); i++ {
		dst[i] ^= src[i]
	}
}

// mulXorInto sets dst[i] ^= c*src[i] in GF(2^8).
func mulXorInto(dst, src []byte, c byte) {
	switch c {
	case 0:
		return
	case 1:
		xorInto(dst, src)
		return
	}
	t := &gfMul[c]
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] ^= t[v]
	}
}

// mulInPlace sets b[i] = c*b[i] in GF(2^8).
func mulInPlace(b []byte, c byte) {
	if c == 1 {
		return
	}
	t := &gfMul[c]
	for i, v := range b {
		b[i] = t[v]
	}
}
