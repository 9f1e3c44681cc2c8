"Tests for dlcourse.mnist: the IDX format, downloading, and the MNIST / Fashion-MNIST loaders (all offline)."
import gzip
import hashlib
import io
import struct

import numpy as np
import pytest

from dlcourse import mnist
from dlcourse.mnist import (DATASETS, FASHION_MNIST_CLASSES, IDX_DTYPES, MNIST_CLASSES, MNIST_FILES, DownloadError,
                            download, file_md5, load_fashion_mnist, load_mnist, read_idx, write_idx)

IDX_CODES = {'uint8': 0x08, 'int8': 0x09, 'int16': 0x0B, 'int32': 0x0C, 'float32': 0x0D, 'float64': 0x0E}


def _example(dtype, shape):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info is not None:
        return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    return (rng.normal(size=shape) * 1e3).astype(dtype)


# ---------------------------------------------------------------- IDX

@pytest.mark.parametrize('dtype', list(IDX_CODES))
@pytest.mark.parametrize('shape', [(7,), (3, 5), (2, 3, 4), (2, 1, 3, 2)])
@pytest.mark.parametrize('suffix', ['', '.gz'])
def test_idx_round_trip(tmp_path, dtype, shape, suffix):
    a = _example(dtype, shape)
    path = write_idx(tmp_path / f'a{suffix}', a)
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative and b.shape == shape
    np.testing.assert_array_equal(b, a)
    b[...] = 0                                               # the result is a writable copy
    raw = path.read_bytes()
    if suffix == '.gz':
        assert raw[:2] == b'\x1f\x8b'
        raw = gzip.decompress(raw)
    assert raw[:4] == bytes([0, 0, IDX_CODES[dtype], len(shape)])
    assert struct.unpack(f'>{len(shape)}I', raw[4:4 + 4 * len(shape)]) == shape
    assert raw[4 + 4 * len(shape):] == a.astype(np.dtype(dtype).newbyteorder('>')).tobytes()   # big-endian data


def test_idx_known_bytes_and_byte_order():
    buf = io.BytesIO(bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFE]))
    np.testing.assert_array_equal(read_idx(buf), np.array([256, -2], dtype=np.int32))
    buf = io.BytesIO(bytes([0, 0, 0x0B, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0x01, 0x02, 0x80, 0x00]))
    np.testing.assert_array_equal(read_idx(buf), np.array([[258, -32768]], dtype=np.int16))
    f64 = bytes([0, 0, 0x0E, 1, 0, 0, 0, 1]) + struct.pack('>d', 1.5)
    assert read_idx(io.BytesIO(f64)).tolist() == [1.5]


def test_idx_file_objects_and_big_endian_input(tmp_path):
    a = _example('float32', (4, 3))
    with open(write_idx(tmp_path / 'a.gz', a), 'rb') as f:
        np.testing.assert_array_equal(read_idx(f), a)
    np.testing.assert_array_equal(read_idx(io.BytesIO((tmp_path / 'a.gz').read_bytes())), a)
    np.testing.assert_array_equal(read_idx(str(tmp_path / 'a.gz')), a)
    big = a.astype('>f4')                                    # non-native input arrays are written correctly too
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / 'b', big)), a)
    nc = np.asfortranarray(_example('int16', (3, 4)))
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / 'c', nc)), nc)


def test_write_idx_gz_is_reproducible(tmp_path):
    a = _example('uint8', (10, 28, 28))
    write_idx(tmp_path / 'x.gz', a)
    write_idx(tmp_path / 'y.gz', a)
    assert (tmp_path / 'x.gz').read_bytes() == (tmp_path / 'y.gz').read_bytes()
    assert file_md5(tmp_path / 'x.gz') == hashlib.md5((tmp_path / 'x.gz').read_bytes()).hexdigest()


def _good_bytes():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    return bytes([0, 0, 0x0D, 2]) + struct.pack('>2I', 3, 4) + a.astype('>f4').tobytes()


@pytest.mark.parametrize('data, msg', [
    (b'', 'not an IDX file'),
    (b'\x00', 'not an IDX file'),
    (b'<html>' + _good_bytes(), 'not an IDX file'),
    (b'\x00\x01' + _good_bytes()[2:], 'not an IDX file'),
    (_good_bytes()[:2] + b'\x0a' + _good_bytes()[3:], 'unknown IDX type code 0x0A'),
    (_good_bytes()[:7], 'truncated: its header'),
    (_good_bytes()[:-1], 'truncated: the header promises'),
    (_good_bytes()[:12], 'truncated: the header promises'),
    (_good_bytes() + b'\x00', 'followed by extra bytes'),
    (gzip.compress(_good_bytes(), mtime=0)[:-6], 'cannot be decompressed'),
    (gzip.compress(_good_bytes()[:-4], mtime=0), 'truncated'),
    (bytes([0, 0, 8, 0, 7]), 'declares 0 dimensions'),
    (bytes([0, 0, 8, 200]) + struct.pack('>200I', *[1] * 200) + b'\x00', 'declares 200 dimensions, more than NumPy supports'),
    (bytes([0, 0, 8, 3]) + struct.pack('>3I', *[2**32 - 1] * 3) + b'\x00', 'truncated: the header promises'),
])
def test_read_idx_corrupt(tmp_path, data, msg):
    (tmp_path / 'bad').write_bytes(data)
    with pytest.raises(ValueError, match=f'path_or_fileobj: .*{msg}'):
        read_idx(tmp_path / 'bad')
    with pytest.raises(ValueError, match=msg):
        read_idx(io.BytesIO(data))


def test_read_idx_bad_source(tmp_path):
    with pytest.raises(FileNotFoundError, match='path_or_fileobj'):
        read_idx(tmp_path / 'missing')
    with pytest.raises(FileNotFoundError, match='path_or_fileobj'):
        read_idx(tmp_path)                                   # a directory
    with pytest.raises(TypeError, match='path_or_fileobj'):
        read_idx(123)
    with pytest.raises(TypeError, match="path_or_fileobj: expected a file opened in binary mode"):
        read_idx(io.StringIO('text'))


@pytest.mark.parametrize('array, exc, msg', [
    (np.arange(3), TypeError, 'array: IDX stores'),                       # int64
    (np.zeros(3, dtype=bool), TypeError, 'array'),
    (np.zeros(3, dtype=np.uint16), TypeError, 'array: IDX stores'),
    (np.array(5, dtype=np.uint8), ValueError, 'array: IDX stores 1 to 255 dimensions'),
    ([1, 2, 3], TypeError, 'array: expected a NumPy array'),
])
def test_write_idx_bad_input(tmp_path, array, exc, msg):
    with pytest.raises(exc, match=msg):
        write_idx(tmp_path / 'x', array)


def test_write_idx_bad_path():
    with pytest.raises(TypeError, match='path'):
        write_idx(5, np.zeros(3, np.uint8))


def test_idx_dtype_table():
    assert sorted(IDX_DTYPES) == sorted(IDX_CODES.values())
    for name, code in IDX_CODES.items():
        assert IDX_DTYPES[code].newbyteorder('=') == np.dtype(name)


# ---------------------------------------------------------------- download

def _served(tmp_path, name='served.bin', data=b'some bytes worth downloading' * 100):
    src = tmp_path / 'server' / name
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(data)
    return src, hashlib.md5(data).hexdigest()


def test_download_file_url_with_md5(tmp_path):
    src, md5 = _served(tmp_path)
    dest = tmp_path / 'cache' / 'sub' / 'file.bin'            # parent folders are created
    assert download(src.as_uri(), dest, md5=md5) == dest
    assert dest.read_bytes() == src.read_bytes()
    assert download(src.as_uri(), dest, md5=md5.upper()) == dest   # hex digits in either case
    assert download(src.as_uri(), str(tmp_path / 'cache' / 'nomd5.bin')).read_bytes() == src.read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == ['file.bin']   # no temporary files left


def test_download_md5_mismatch_leaves_nothing(tmp_path):
    src, md5 = _served(tmp_path)
    dest = tmp_path / 'cache' / 'file.bin'
    with pytest.raises(DownloadError, match='MD5 checksum'):
        download(src.as_uri(), dest, md5='0' * 32)
    assert not dest.exists() and list(dest.parent.iterdir()) == []
    dest.write_bytes(b'old')                                  # an existing file survives a failed download
    with pytest.raises(DownloadError, match=md5):
        download(src.as_uri(), dest, md5='f' * 32)
    assert dest.read_bytes() == b'old'
    assert issubclass(DownloadError, RuntimeError)


def test_download_unreachable(tmp_path):
    dest = tmp_path / 'cache' / 'x.bin'
    with pytest.raises(DownloadError, match='could not fetch'):
        download((tmp_path / 'nope.bin').as_uri(), dest)
    assert not dest.exists() and list(dest.parent.iterdir()) == []


@pytest.mark.parametrize('kwargs, exc, msg', [
    (dict(url=5), TypeError, 'url'),
    (dict(url='ftp//missing-colon'), ValueError, 'url'),
    (dict(url='gopher://x/y'), ValueError, 'url'),
    (dict(dest=3.5), TypeError, 'dest'),
    (dict(md5='abc'), ValueError, 'md5'),
    (dict(md5=123), ValueError, 'md5'),
    (dict(md5='g' * 32), ValueError, 'md5'),
    (dict(timeout=0), ValueError, 'timeout'),
    (dict(timeout='5'), TypeError, 'timeout'),
])
def test_download_bad_arguments(tmp_path, kwargs, exc, msg):
    src, _ = _served(tmp_path)
    args = dict(url=src.as_uri(), dest=tmp_path / 'out.bin') | kwargs
    with pytest.raises(exc, match=msg):
        download(**args)
    assert not (tmp_path / 'out.bin').exists()


def test_file_md5_bad_path():
    with pytest.raises(TypeError, match='path'):
        file_md5(None)


# ---------------------------------------------------------------- loaders

def _write_split(folder, split, n, rng, unpacked=False, labels=None):
    images = rng.integers(0, 256, size=(n, 28, 28), endpoint=False).astype(np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = rng.integers(0, 10, size=n).astype(np.uint8) if labels is None else labels
    img_name, lbl_name = MNIST_FILES[split]
    if unpacked:
        img_name, lbl_name = img_name[:-3], lbl_name[:-3]
    write_idx(folder / img_name, images)
    write_idx(folder / lbl_name, labels)
    return images, labels


@pytest.mark.parametrize('loader, folder', [(load_mnist, 'mnist'), (load_fashion_mnist, 'fashion_mnist')])
def test_load_from_root_no_network(tmp_path, monkeypatch, loader, folder):
    def no_network(*args, **kwargs): raise AssertionError('the loader tried to download')
    monkeypatch.setattr(mnist, 'download', no_network)
    rng = np.random.default_rng(0)
    images, labels = _write_split(tmp_path / folder, 'train', 12, rng)
    test_images, test_labels = _write_split(tmp_path / folder, 'test', 5, rng, unpacked=True)
    X, y = loader(root=tmp_path, split='train')
    assert X.shape == (12, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_allclose(X, images / np.float32(255), rtol=1e-7)
    np.testing.assert_array_equal(y, labels)
    Xt, yt = loader(root=str(tmp_path), split='test', download=False, dtype='float64')
    assert Xt.dtype == np.float64
    np.testing.assert_allclose(Xt, test_images / 255.0, rtol=0, atol=0)
    np.testing.assert_array_equal(yt, test_labels)


def test_load_missing_without_download(tmp_path):
    with pytest.raises(FileNotFoundError, match='MNIST: .*t10k-images-idx3-ubyte.gz is missing and download=False'):
        load_mnist(root=tmp_path, split='test', download=False)
    with pytest.raises(FileNotFoundError, match='Fashion-MNIST.*fashion_mnist.*download=True'):
        load_fashion_mnist(root=tmp_path, download=False)


def _mirror(tmp_path, monkeypatch, key, mirrors):
    "Serve a small dataset from file:// mirrors and make the loader expect its checksums."
    served = tmp_path / 'mirror'
    rng = np.random.default_rng(1)
    data = {split: _write_split(served, split, 6, rng) for split in MNIST_FILES}
    md5 = {name: file_md5(served / name) for names in MNIST_FILES.values() for name in names}
    urls = tuple((tmp_path / m).as_uri() + '/' if m != 'mirror' else served.as_uri() + '/' for m in mirrors)
    monkeypatch.setitem(DATASETS[key], 'mirrors', urls)
    monkeypatch.setitem(DATASETS[key], 'md5', md5)
    return data


@pytest.mark.parametrize('key, loader', [('mnist', load_mnist), ('fashion_mnist', load_fashion_mnist)])
def test_load_downloads_missing_files(tmp_path, monkeypatch, key, loader):
    data = _mirror(tmp_path, monkeypatch, key, ['dead-mirror', 'mirror'])     # the first mirror fails
    root = tmp_path / 'root'
    X, y = loader(root=root, split='test')
    np.testing.assert_array_equal(y, data['test'][1])
    np.testing.assert_allclose(X * 255, data['test'][0], atol=1e-4)
    folder = root / DATASETS[key]['folder']
    assert sorted(p.name for p in folder.iterdir()) == sorted(MNIST_FILES['test'])
    monkeypatch.setitem(DATASETS[key], 'mirrors', ('file:///nonexistent/',))   # now cached: no download needed
    X2, y2 = loader(root=root, split='test')
    np.testing.assert_array_equal(X2, X)


def test_load_download_failure_and_bad_checksum(tmp_path, monkeypatch):
    _mirror(tmp_path, monkeypatch, 'mnist', ['dead-1', 'dead-2'])
    with pytest.raises(DownloadError, match='MNIST: could not download train-images-idx3-ubyte.gz from any mirror'):
        load_mnist(root=tmp_path / 'root')
    _mirror(tmp_path, monkeypatch, 'mnist', ['mirror'])
    monkeypatch.setitem(DATASETS['mnist'], 'md5', {name: '0' * 32 for names in MNIST_FILES.values() for name in names})
    with pytest.raises(DownloadError, match='MD5'):
        load_mnist(root=tmp_path / 'root')
    assert not any((tmp_path / 'root' / 'mnist').iterdir())


@pytest.mark.parametrize('bad, msg', [
    ('images-int8', "root: .* should hold MNIST's uint8 images"),
    ('images-2d', "should hold MNIST's uint8 images"),
    ('labels-short', 'should hold 4 uint8 MNIST labels'),
    ('labels-big', 'labels in 0..9'),
])
def test_load_rejects_wrong_contents(tmp_path, bad, msg):
    folder = tmp_path / 'mnist'
    images, labels = np.zeros((4, 28, 28), np.uint8), np.arange(4, dtype=np.uint8)
    if bad == 'images-int8': images = images.astype(np.int8)
    if bad == 'images-2d': images = images.reshape(4, -1)
    if bad == 'labels-short': labels = labels[:3]
    if bad == 'labels-big': labels = labels + 7
    write_idx(folder / MNIST_FILES['train'][0], images)
    write_idx(folder / MNIST_FILES['train'][1], labels)
    with pytest.raises(ValueError, match=msg):
        load_mnist(root=tmp_path, download=False)


@pytest.mark.parametrize('kwargs, exc, msg', [
    (dict(split='validation'), ValueError, 'split'),
    (dict(split=None), ValueError, 'split'),
    (dict(download='yes'), TypeError, 'download'),
    (dict(dtype='uint8'), ValueError, 'dtype'),
    (dict(root=42), TypeError, 'root'),
])
@pytest.mark.parametrize('loader', [load_mnist, load_fashion_mnist])
def test_load_bad_arguments(tmp_path, loader, kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        loader(**(dict(root=tmp_path, download=False) | kwargs))


def test_published_checksums_and_classes():
    for key in ('mnist', 'fashion_mnist'):
        spec = DATASETS[key]
        assert set(spec['md5']) == {n for names in MNIST_FILES.values() for n in names}
        assert all(len(v) == 32 and int(v, 16) >= 0 for v in spec['md5'].values())
        assert all(m.startswith(('http://', 'https://')) and m.endswith('/') for m in spec['mirrors'])
    assert DATASETS['mnist']['md5']['train-images-idx3-ubyte.gz'] == 'f68b3c2dcbeaaa9fbdd348bbdeb94873'
    assert DATASETS['fashion_mnist']['md5']['t10k-labels-idx1-ubyte.gz'] == 'bb300cfdad3c16e7a12a480ee83cd310'
    assert len(MNIST_CLASSES) == len(FASHION_MNIST_CLASSES) == 10


def test_a_damaged_file_under_root_is_blamed_on_root(tmp_path):
    "load_mnist has no path_or_fileobj argument: a damaged file it finds is reported against `root`, where it lives."
    write_idx(tmp_path / 'mnist' / MNIST_FILES['train'][1], np.arange(4, dtype=np.uint8))
    (tmp_path / 'mnist' / MNIST_FILES['train'][0]).write_bytes(b'<html>not found</html>')
    with pytest.raises(ValueError, match=r'^root: .*train-images-idx3-ubyte.gz is not an IDX file'):
        load_mnist(root=tmp_path, download=False)
