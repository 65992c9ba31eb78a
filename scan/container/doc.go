// Package container holds the readers of evidence and virtual-disk
// containers (E01, qcow2, VMDK, VHD, VHDX, VDI, split raw). Each reader
// opens its files read-only and presents the disk inside as a
// device.Device, in a subpackage of its own; the subpackage blockdev
// holds what the readers share (files opened for concurrent reads, the
// bounds of ReadAt, reading and mapping a disk resolved into pieces of
// file, zeros and parent, the merging of Map's extents).
package container
