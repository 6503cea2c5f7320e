use bytes::BytesMut;
use ceph_msgr::frame::*;
#[test]
fn dump() {
    for name in ["crc.conn0", "crc.conn1", "secure.conn0"] {
        for dir in ["c2s", "s2c"] {
            let data = std::fs::read(format!("tests/data/{name}.{dir}.bin")).unwrap();
            let mut buf = BytesMut::from(&data[..]);
            let b = Banner::parse(&mut buf).unwrap().unwrap();
            println!("{name} {dir} {b:?}");
            let mut codec = FrameCodec::default();
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(f)) => println!("  {:?} {:?} {}", f.tag, f.segments.iter().map(|s| s.len()).collect::<Vec<_>>(), hex::encode(&f.segments[0][..f.segments[0].len().min(64)])),
                    Ok(None) => { println!("  need more, left {}", buf.len()); break }
                    Err(e) => { println!("  err {e}"); break }
                }
            }
        }
    }
}
