# Generates the table in chars.c. Kept for review; the output is committed.
TCHAR = set(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
HOST = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%")
HEX = set(b"0123456789abcdefABCDEF")
rows = []
for c in range(256):
    v = 0
    if c in TCHAR: v |= 1
    if c == 9 or c == 32 or 0x21 <= c <= 0x7e or c >= 0x80: v |= 2
    if 0x21 <= c <= 0x7e or c >= 0x80: v |= 4
    if c in HOST: v |= 8
    if c in HEX: v |= 16
    if c in (9, 32, 0x21) or 0x23 <= c <= 0x5b or 0x5d <= c <= 0x7e or c >= 0x80: v |= 32
    rows.append(v)
for i in range(0, 256, 16):
    print("    " + ", ".join("%2d" % v for v in rows[i:i+16]) + ",")
