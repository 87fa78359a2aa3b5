//! Arithmetic on CRC values as polynomials over GF(2) modulo the (reflected) ECMA-182
//! polynomial — the same construction as zlib's `crc32_combine`, for 64 bits.
//!
//! In the reflected representation bit 63 is x^0 and bit 0 is x^63. A CRC register is a
//! polynomial; feeding one zero byte multiplies it by x^8. That is all `shift` needs.

/// The ECMA-182 polynomial, bit-reflected (CRC-64/XZ).
const POLY: u64 = 0xC96C_5795_D787_0F42;

/// x^0 in the reflected representation.
const ONE: u64 = 1 << 63;

/// Table entries: byte counts have 64 bits, and a byte is 2^3 bits, so x^(8n) needs
/// x^(2^k) for k in 3..67.
const X2N_LEN: usize = 67;

/// `X2N[k]` = x^(2^k) mod P, for k in 0..67; built at compile time. (zlib wraps its index
/// because x^(2^32) = x for its polynomial; nothing says that holds here, so no wrapping.)
const X2N: [u64; X2N_LEN] = build_x2n();

const fn build_x2n() -> [u64; X2N_LEN] {
    let mut table = [0u64; X2N_LEN];
    table[0] = ONE >> 1; // x^1
    let mut k = 1;
    while k < X2N_LEN {
        table[k] = mul(table[k - 1], table[k - 1]);
        k += 1;
    }
    table
}

/// a(x) * b(x) mod P, both reflected.
const fn mul(a: u64, mut b: u64) -> u64 {
    let mut product = 0u64;
    let mut m = ONE;
    while m != 0 {
        if a & m != 0 {
            product ^= b;
        }
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
        m >>= 1;
    }
    product
}

/// x^(8 * bytes) mod P: the effect of `bytes` zero bytes on a CRC register.
fn x8n(bytes: u64) -> u64 {
    let mut result = ONE;
    let mut n = bytes;
    // x^(8n) = prod over the set bits i of n of x^(2^(i+3)).
    let mut k = 3;
    while n != 0 {
        if n & 1 != 0 {
            result = mul(X2N[k], result);
        }
        n >>= 1;
        k += 1;
    }
    result
}

/// Multiplies a CRC-register value by x^(8 × `bytes`) modulo the polynomial: the register
/// after `bytes` zero bytes pass through it with no initial value or final XOR applied.
///
/// This is the "shift operator" that moves a part's contribution to its place in a longer
/// message. It costs at most 64 carry-less multiplications (~ a few µs), whatever `bytes` is.
///
/// ```
/// // Shifting by zero bytes is the identity.
/// assert_eq!(oss_crc::shift(0x1234, 0), 0x1234);
/// // Shifting is linear: shift(a ^ b) == shift(a) ^ shift(b).
/// let (a, b) = (0xDEAD_BEEF_u64, 0x0123_4567_89AB_CDEF_u64);
/// assert_eq!(oss_crc::shift(a ^ b, 1000), oss_crc::shift(a, 1000) ^ oss_crc::shift(b, 1000));
/// ```
pub fn shift(value: u64, bytes: u64) -> u64 {
    mul(x8n(bytes), value)
}

/// The CRC-64/XZ of `bytes` zero bytes, computed in O(log bytes) without touching memory.
///
/// ```
/// assert_eq!(oss_crc::zeros(4096), oss_crc::checksum(&[0u8; 4096]));
/// assert_eq!(oss_crc::zeros(0), 0);
/// ```
pub fn zeros(bytes: u64) -> u64 {
    // Register starts at all ones, goes through `bytes` zero bytes, then the final XOR.
    shift(!0, bytes) ^ !0
}

/// The CRC-64/XZ of `A || B` from `crc(A)`, `crc(B)` and the length of `B` in bytes.
///
/// The length of `A` is not needed: that is what lets a running CRC be resumed.
///
/// ```
/// let ab = oss_crc::checksum(b"hello, world");
/// let a = oss_crc::checksum(b"hello, ");
/// let b = oss_crc::checksum(b"world");
/// assert_eq!(oss_crc::combine(a, b, 5), ab);
/// ```
pub fn combine(crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
    shift(crc_a, len_b) ^ crc_b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x2n_table_starts_at_x() {
        assert_eq!(X2N[0], 1 << 62);
        // x^2 = x * x
        assert_eq!(X2N[1], 1 << 61);
    }

    #[test]
    fn shift_by_huge_lengths_does_not_overflow() {
        // u64::MAX bytes uses every table entry up to x^(2^66).
        let _ = shift(!0, u64::MAX);
        let _ = zeros(u64::MAX);
    }

    #[test]
    fn shift_composes() {
        let v = 0xA5A5_5A5A_0F0F_F0F0;
        assert_eq!(shift(shift(v, 123), 456), shift(v, 579));
    }
}
