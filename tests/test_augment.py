"Image augmentation: NumPy vs PyTorch with shared parameters, exact flips/shifts, rotation conventions, bad input."
import numpy as np
import pytest
import torch

from dlcourse.data import ArrayDataset, DataLoader
from dlcourse.explore import augment as ex
from dlcourse.numpy import augment as npa
from dlcourse.torch import augment as tha

PAIRS = {name: make for name, make in tha.AUGMENTATIONS.items()}


def _batch(shape, seed=0):
    return np.random.default_rng(seed).random(shape)


@pytest.mark.parametrize('shape', [(6, 8, 8), (5, 3, 7, 9)])
@pytest.mark.parametrize('name', list(PAIRS) + ['pipeline'])
def test_same_params_same_images(name, shape):
    if name == 'pipeline':
        pairs = [make() for make in PAIRS.values()]
        np_aug, th_aug = npa.Compose([p[0] for p in pairs]), tha.Compose([p[1] for p in pairs])
    else:
        np_aug, th_aug = PAIRS[name]()
    x = _batch(shape)
    params = np_aug.sample_params(x.shape, np.random.default_rng(1))
    expected = np_aug.apply(x, params)
    actual = th_aug.apply(torch.from_numpy(x), params).numpy()
    assert actual.shape == x.shape and actual.dtype == x.dtype
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_dtype_kept(dtype):
    x = _batch((3, 8, 8)).astype(dtype)
    for make in PAIRS.values():
        np_aug, th_aug = make()
        params = np_aug.sample_params(x.shape, 0)
        assert np_aug.apply(x, params).dtype == np.dtype(dtype)
        assert th_aug.apply(torch.from_numpy(x), params).dtype == getattr(torch, dtype)


def test_flips_exact():
    x = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)
    out = npa.hflip(x, [True, False])
    np.testing.assert_array_equal(out[0], x[0, :, ::-1])
    np.testing.assert_array_equal(out[1], x[1])
    out = npa.vflip(x, [False, True])
    np.testing.assert_array_equal(out[1], x[1, ::-1])
    np.testing.assert_array_equal(out[0], x[0])
    np.testing.assert_array_equal(tha.hflip(torch.from_numpy(x), [True, True]).numpy(), x[..., ::-1])
    assert npa.RandomHorizontalFlip(1.0).sample_params((4, 2, 2), 0)['flip'].all()
    assert not npa.RandomVerticalFlip(0.0).sample_params((4, 2, 2), 0)['flip'].any()


def test_shifts_exact():
    x = np.zeros((1, 4, 4)); x[0, 1, 1] = 1.0
    for dr, dc in [(1, 0), (0, 2), (-1, -1), (2, -1)]:
        expected = np.zeros((1, 4, 4)); expected[0, 1 + dr, 1 + dc] = 1.0
        np.testing.assert_array_equal(npa.translate(x, [[dr, dc]]), expected)
        np.testing.assert_array_equal(tha.translate(torch.from_numpy(x), [[dr, dc]]).numpy(), expected)
    np.testing.assert_array_equal(npa.translate(x, [[4, 0]]), np.zeros_like(x))   # shifted out entirely
    np.testing.assert_array_equal(npa.translate(x, [[0, 0]]), x)


def test_crop_with_padding_keeps_size_and_is_a_shift():
    x = _batch((5, 2, 6, 7))
    aug = npa.RandomCrop(3)
    params = aug.sample_params(x.shape, 0)
    out = aug.apply(x, params)
    assert out.shape == x.shape
    np.testing.assert_array_equal(out, npa.translate(x, 3 - params['offsets']))
    np.testing.assert_array_equal(npa.crop(x, np.full((5, 2), 3), 3), x)
    assert params['offsets'].min() >= 0 and params['offsets'].max() <= 6
    np.testing.assert_array_equal(npa.RandomCrop(0)(x, 0), x)


def test_rotation_conventions():
    x = _batch((3, 6, 6))
    for k in (1, 2, 3):
        np.testing.assert_allclose(npa.rotate(x, np.full(3, 90.0 * k)), np.rot90(x, k, axes=(1, 2)), atol=1e-12)
        np.testing.assert_allclose(tha.rotate(torch.from_numpy(x), np.full(3, 90.0 * k)).numpy(),
                                   np.rot90(x, k, axes=(1, 2)), atol=1e-12)
    np.testing.assert_allclose(npa.rotate(x, np.zeros(3)), x, atol=1e-15)
    # a quarter turn counter-clockwise moves the top-right corner to the top-left
    corner = np.zeros((1, 5, 5)); corner[0, 0, 4] = 1.0
    assert npa.rotate(corner, [90.0])[0, 0, 0] == pytest.approx(1.0)
    # the centre is the fixed point, and bilinear weights are a convex combination: values stay within [0, 1]
    blob = np.zeros((1, 9, 9)); blob[0, 4, 4] = 1.0
    out = npa.rotate(blob, [30.0])
    assert out[0, 4, 4] == pytest.approx(1.0) and out.min() >= 0 and out.max() <= 1


def test_rotation_matches_grid_sample():
    x = torch.from_numpy(_batch((4, 2, 8, 8)))
    angles = np.array([-40.0, 5.0, 33.3, 170.0])
    torch.testing.assert_close(tha.rotate(x, angles), tha.grid_sample_rotate(x, angles), atol=1e-12, rtol=0)


def test_noise_reproducible_and_scaled():
    x = np.zeros((200, 8, 8))
    aug = npa.GaussianNoise(0.3)
    np.testing.assert_array_equal(aug(x, 5), aug(x, 5))
    assert not np.array_equal(aug(x, 5), aug(x, 6))
    assert aug(x, 0).std() == pytest.approx(0.3, rel=0.05)
    np.testing.assert_array_equal(npa.GaussianNoise(0.0)(x, 0), x)


def test_augment_wraps_loader():
    X, y = _batch((10, 64)), np.arange(10)
    dl = DataLoader(ArrayDataset(X, y), batch_size=4)
    aug = npa.Augment(dl, npa.RandomHorizontalFlip(1.0), image_shape=(8, 8))
    batches = list(aug)
    assert len(aug) == len(dl) == 3 == len(batches)
    np.testing.assert_array_equal(batches[0][0], X[:4].reshape(4, 8, 8)[..., ::-1].reshape(4, 64))
    np.testing.assert_array_equal(batches[2][1], y[8:])


def test_augmentation_concept_registered():
    from dlcourse.crosscheck import concepts
    concept = next(c for c in concepts() if c.name == 'augmentation')
    for dtype in ('float64', 'float32'):
        results = concept.check(dtype, device='cpu')
        assert results and all(r.ok for r in results) and {r.dtype for r in results} == {dtype}


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
def test_cuda_matches_numpy():
    x = _batch((8, 3, 8, 8))
    pairs = [make() for make in PAIRS.values()]
    np_aug, th_aug = npa.Compose([p[0] for p in pairs]), tha.Compose([p[1] for p in pairs])
    params = np_aug.sample_params(x.shape, 0)
    out = th_aug.apply(torch.from_numpy(x).cuda(), params)
    assert out.device.type == 'cuda'
    np.testing.assert_allclose(out.cpu().numpy(), np_aug.apply(x, params), atol=1e-12, rtol=0)


def test_gallery():
    images = _batch((2, 8, 8))
    np.testing.assert_array_equal(ex.augmentation_grid(images, ex.make_transform(), versions=2),
                                  np.repeat(images[:, None], 2, axis=1))
    assert len(ex.make_transform(rotation=5, shift=1, padding=1, flip_p=0.5, noise=0.1).transforms) == 5
    assert ex.augmentation_grid(images, ex.make_transform(rotation=10), versions=3).shape == (2, 3, 8, 8)


@pytest.mark.parametrize('call, error, message', [
    (lambda: npa.hflip(np.zeros((8, 8)), [True]), ValueError, 'images: expected a 3-D or 4-D array'),
    (lambda: npa.rotate(np.zeros((1, 8, 8), dtype=np.int64), [0.0]), TypeError, 'images: expected a floating-point dtype'),
    (lambda: npa.translate(np.full((1, 2, 2), np.nan), [[0, 0]]), ValueError, 'images: contains NaN'),
    (lambda: npa.RandomHorizontalFlip(-0.1), ValueError, 'p: expected a value in [0, 1]'),
    (lambda: npa.RandomVerticalFlip(1.1), ValueError, 'p: expected a value in [0, 1]'),
    (lambda: npa.GaussianNoise(-1.0), ValueError, 'std: expected a value >= 0'),
    (lambda: npa.RandomCrop(-1), ValueError, 'padding: expected a value >= 0'),
    (lambda: npa.RandomCrop(1.5), TypeError, 'padding: expected an integer'),
    (lambda: npa.RandomTranslation(-2), ValueError, 'max_shift: expected a value >= 0'),
    (lambda: npa.RandomRotation(float('nan')), ValueError, 'degrees'),
    (lambda: npa.crop(np.zeros((1, 4, 4)), [[0, 3]], 1), ValueError, 'offsets: expected values in [0, 2]'),
    (lambda: npa.translate(np.zeros((1, 4, 4)), [[0.5, 0]]), ValueError, 'shifts: expected integer (row, column) pairs'),
    (lambda: npa.rotate(np.zeros((2, 4, 4)), [1.0]), ValueError, 'angles: expected 2 finite angles'),
    (lambda: npa.add_noise(np.zeros((2, 4, 4)), np.zeros((2, 4))), ValueError, 'noise: expected shape'),
    (lambda: npa.RandomRotation(5).apply(np.zeros((2, 4, 4)), {'angles': [1.0]}), ValueError, "params['angles']: expected 2"),
    (lambda: npa.RandomRotation(5).apply(np.zeros((2, 4, 4)), [1.0]), TypeError, 'params: expected a dict'),
    (lambda: npa.RandomRotation(5).sample_params((2, 4), 0), ValueError, 'shape: expected (N, H, W)'),
    (lambda: npa.RandomRotation(5).sample_params((2, 4, 4), 'x'), TypeError, 'rng: expected'),
    (lambda: npa.Compose([npa.RandomCrop(1), None]), TypeError, 'transforms[1]: expected an Augmentation'),
    (lambda: npa.Compose([npa.RandomCrop(1)]).apply(np.zeros((1, 4, 4)), {}), ValueError, 'params: expected a list of 1'),
    (lambda: npa.Augment([], 'flip'), TypeError, 'transform: expected an Augmentation'),
    (lambda: npa.Augment(3, npa.RandomCrop(1)), TypeError, 'dl: expected an iterable'),
    (lambda: tha.rotate(np.zeros((1, 4, 4)), [0.0]), TypeError, 'images: expected a torch tensor'),
    (lambda: npa.rotate(torch.zeros(1, 4, 4), [0.0]), TypeError, 'images: expected a NumPy array'),
    (lambda: tha.crop(torch.zeros(1, 4, 4), [[3, 0]], 1), ValueError, 'offsets: expected values in [0, 2]'),
    (lambda: tha.add_noise(torch.zeros(1, 4, 4), np.zeros((1, 4))), ValueError, 'noise: expected shape'),
    (lambda: tha.rotate(torch.zeros(2, 4, 4), [float('inf'), 0.0]), ValueError, 'angles: expected 2 finite angles'),
    (lambda: ex.augmentation_grid(np.zeros((8, 8)), ex.make_transform()), ValueError, 'images: expected a 3-D array'),
    (lambda: ex.augmentation_grid(np.zeros((1, 8, 8)), ex.make_transform(), versions=0), ValueError, 'versions'),
    (lambda: ex.make_transform(noise=-0.5), ValueError, 'std: expected a value >= 0'),
    (lambda: tha.augmentation_experiment(fraction=0.0), ValueError, 'fraction'),
    (lambda: tha.augmentation_experiment({'bad': 'flip'}), TypeError, "transforms['bad']"),
])
def test_bad_input(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_inputs_not_modified():
    x = _batch((3, 8, 8))
    before = x.copy()
    for make in PAIRS.values():
        aug = make()[0]
        aug(x, 0)
    np.testing.assert_array_equal(x, before)


def test_augmented_scaler_fits_on_the_images_and_their_augmented_copies():
    from dlcourse.data import StandardScaler, digits_splits
    from dlcourse.numpy.augment import augmented_scaler, digit_augmentation
    X = digits_splits(fraction=0.2, standardize=False, dtype='float64').X_train
    aug = digit_augmentation()
    scaler = augmented_scaler(X, aug, copies=2, generator=0)
    rng = np.random.default_rng(0)
    copies = [aug(X.reshape(-1, 8, 8), rng).reshape(X.shape) for _ in range(2)]
    expected = StandardScaler().fit(np.concatenate([X, *copies]))
    np.testing.assert_allclose(scaler.mean_, expected.mean_, rtol=1e-12)
    np.testing.assert_allclose(scaler.scale_, expected.scale_, rtol=1e-12)
    assert scaler.scale_[scaler.var_ > 0].min() > 3 * StandardScaler().fit(X).scale_[StandardScaler().fit(X).var_ > 0].min()
    np.testing.assert_array_equal(augmented_scaler(X, aug, copies=0).mean_, StandardScaler().fit(X).mean_)


@pytest.mark.parametrize('kwargs, error, fragment', [
    (dict(transform='rotate'), TypeError, 'transform'), (dict(copies=-1), ValueError, 'copies'),
    (dict(image_shape=(4, 4)), ValueError, 'image_shape'), (dict(X=np.zeros(64)), ValueError, 'X'),
])
def test_augmented_scaler_rejects_bad_arguments(kwargs, error, fragment):
    from dlcourse.numpy.augment import augmented_scaler, digit_augmentation
    args = dict(X=np.zeros((3, 64)), transform=digit_augmentation()) | kwargs
    with pytest.raises(error, match=fragment): augmented_scaler(**args)


def test_augment_rejects_an_image_shape_that_does_not_match_the_rows():
    from dlcourse.data import ArrayDataset, DataLoader
    from dlcourse.numpy.augment import Augment, digit_augmentation
    dl = Augment(DataLoader(ArrayDataset(np.zeros((4, 64)), np.zeros(4)), batch_size=2), digit_augmentation(), (4, 4))
    with pytest.raises(ValueError, match='image_shape'): next(iter(dl))
