package logfmt

import "time"

const monthNames = "JanFebMarAprMayJunJulAugSepOctNovDec"

// appendPad writes v in decimal on at least width digits, as HAProxy's
// utoa_pad does.
func appendPad(dst []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v > 0 || len(buf)-i < width {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[i:]...)
}

// appendDayTime writes "02/Jan/2006:15:04:05", the common part of
// HAProxy's date2str_log, gmt2str_log and localdate2str_log.
func appendDayTime(dst []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = appendPad(dst, d, 2)
	dst = append(dst, '/')
	dst = append(dst, monthNames[(mo-1)*3:mo*3]...)
	dst = append(dst, '/')
	dst = appendPad(dst, y, 4)
	dst = append(dst, ':')
	dst = appendPad(dst, h, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, mi, 2)
	dst = append(dst, ':')
	return appendPad(dst, s, 2)
}

// appendDate is %t and %tr: local time with milliseconds,
// "23/Nov/2026:12:31:25.910".
func appendDate(dst []byte, t time.Time) []byte {
	dst = appendDayTime(dst, t)
	dst = append(dst, '.')
	return appendPad(dst, t.Nanosecond()/int(time.Millisecond), 3)
}

// appendDateGMT is %T and %trg: "23/Nov/2026:12:31:25 +0000".
func appendDateGMT(dst []byte, t time.Time) []byte {
	dst = appendDayTime(dst, t.UTC())
	return append(dst, " +0000"...)
}

// appendDateLocal is %Tl and %trl: local time with the offset from GMT,
// "23/Nov/2026:18:01:25 +0530".
func appendDateLocal(dst []byte, t time.Time) []byte {
	dst = appendDayTime(dst, t)
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	off /= 60
	dst = append(dst, ' ', sign)
	dst = appendPad(dst, off/60%24, 2)
	return appendPad(dst, off%60, 2)
}
