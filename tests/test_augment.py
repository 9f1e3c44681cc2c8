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


BACKENDS = {'numpy': (npa, lambda x: x), 'torch': (tha, torch.from_numpy)}


@pytest.mark.parametrize('call, error, message', [
    (lambda: npa.hflip(np.zeros((8, 8)), [True]), ValueError, 'images: expected a 3-D or 4-D array'),
    (lambda: npa.rotate(np.zeros((1, 8, 8), dtype=np.int64), [0.0]), TypeError, 'images: expected a floating-point dtype'),
    (lambda: npa.translate(np.full((1, 2, 2), np.nan), [[0, 0]]), ValueError, 'images: contains NaN'),
    (lambda: npa.hflip(np.zeros((0, 2, 2)), np.zeros(0, dtype=bool)), ValueError, 'images: expected at least one image'),
    (lambda: npa.RandomHorizontalFlip(-0.1), ValueError, 'p: expected a value in [0, 1]'),
    (lambda: npa.RandomVerticalFlip(1.1), ValueError, 'p: expected a value in [0, 1]'),
    (lambda: npa.GaussianNoise(-1.0), ValueError, 'std: expected a value >= 0'),
    (lambda: npa.RandomCrop(-1), ValueError, 'padding: expected a value >= 0'),
    (lambda: npa.RandomCrop(1.5), TypeError, 'padding: expected an integer'),
    (lambda: npa.RandomTranslation(-2), ValueError, 'max_shift: expected a value >= 0'),
    (lambda: npa.RandomRotation(float('nan')), ValueError, 'degrees'),
    (lambda: npa.crop(np.zeros((1, 4, 4)), [[0, 3]], 1), ValueError, 'offsets: expected values in [0, 2]'),
    (lambda: npa.translate(np.zeros((1, 4, 4)), [[0.5, 0]]), TypeError, 'shifts: expected an integer dtype'),
    (lambda: npa.rotate(np.zeros((2, 4, 4)), [1.0]), ValueError, 'angles: expected shape (2,), one entry per image'),
    (lambda: npa.add_noise(np.zeros((2, 4, 4)), np.zeros((2, 4))), ValueError, 'noise: expected shape (2, 4, 4)'),
    (lambda: npa.RandomRotation(5).apply(np.zeros((2, 4, 4)), {'angles': [1.0]}), ValueError, "params['angles']: expected shape (2,)"),
    (lambda: npa.RandomRotation(5).apply(np.zeros((2, 4, 4)), [1.0]), TypeError, 'params: expected a dict'),
    (lambda: npa.RandomRotation(5).sample_params((2, 4), 0), ValueError, 'shape: expected (N, H, W)'),
    (lambda: npa.RandomRotation(5).sample_params(3, 0), TypeError, 'shape: expected a tuple'),
    (lambda: npa.RandomRotation(5).sample_params((2, 4, 4), 'x'), TypeError, 'rng: expected'),
    (lambda: npa.Compose([npa.RandomCrop(1), None]), TypeError, 'transforms[1]: expected an Augmentation'),
    (lambda: npa.Compose(npa.RandomCrop(1)), TypeError, 'transforms: expected a list of Augmentations'),
    (lambda: npa.Compose([npa.RandomCrop(1)]).apply(np.zeros((1, 4, 4)), {}), TypeError, 'params: expected a list of 1'),
    (lambda: npa.Compose([npa.RandomCrop(1)]).apply(np.zeros((1, 4, 4)), [{'offsets': [[0, 3]]}]), ValueError,
     "params[0]['offsets']: expected values in [0, 2]"),
    (lambda: npa.Augment([], 'flip'), TypeError, 'transform: expected an Augmentation'),
    (lambda: npa.Augment(3, npa.RandomCrop(1)), TypeError, 'dl: expected an iterable'),
    (lambda: npa.Augment('batches', npa.RandomCrop(1)), TypeError, 'dl: expected an iterable'),
    (lambda: npa.Augment([], npa.RandomCrop(1), image_shape=(8, 0)), ValueError, 'image_shape: expected (H, W) or (C, H, W)'),
    (lambda: npa.digit_augmentation(noise=-0.1), ValueError, 'noise: std: expected a value >= 0'),
    (lambda: npa.crop_window(np.zeros((1, 6, 6)), [[0, 0]], 7, 4), ValueError, 'height: expected a value in [1, 6]'),
    (lambda: npa.crop_window(np.zeros((1, 6, 6)), [[3, 0]], 4, 4), ValueError, 'offsets: expected values in [0, 2]'),
    (lambda: npa.rotation_sources([1.0], 4, 4, dtype='int32'), ValueError, 'dtype: expected one of'),
    (lambda: npa.bilinear_sample(np.zeros((2, 4, 4)), np.zeros((1, 4, 4)), np.zeros((1, 4, 4))), ValueError,
     'rows: expected one grid per image of images (2)'),
    (lambda: tha.rotate(np.zeros((1, 4, 4)), [0.0]), TypeError, 'images: expected a torch tensor'),
    (lambda: npa.rotate(torch.zeros(1, 4, 4), [0.0]), TypeError, 'images: expected a NumPy array'),
    (lambda: tha.crop(torch.zeros(1, 4, 4), [[3, 0]], 1), ValueError, 'offsets: expected values in [0, 2]'),
    (lambda: tha.add_noise(torch.zeros(1, 4, 4), np.zeros((1, 4))), ValueError, 'noise: expected shape (1, 4, 4)'),
    (lambda: tha.rotate(torch.zeros(2, 4, 4), [float('inf'), 0.0]), ValueError, 'angles: contains NaN or inf'),
    (lambda: tha.grid_sample_rotate(torch.zeros(2, 4, 4), [0.0, 0.0]), ValueError, 'images: expected (N, C, H, W)'),
    (lambda: tha.digit_batches('float16'), ValueError, 'dtype: expected one of'),
    (lambda: tha.check_augmentation('float64', device='bogus'), ValueError, 'device: expected'),
    (lambda: ex.augmentation_grid(np.zeros((8, 8)), ex.make_transform()), ValueError, 'images: expected a 3-D or 4-D array'),
    (lambda: ex.augmentation_grid(np.zeros((1, 8, 8)), ex.make_transform(), versions=0), ValueError, 'versions'),
    (lambda: ex.augmentation_grid(np.zeros((1, 8, 8)), 'rotate'), TypeError, 'transform: expected an Augmentation'),
    (lambda: ex.make_transform(noise=-0.5), ValueError, 'noise: std: expected a value >= 0'),
    (lambda: ex.make_transform(shift=1.5), TypeError, 'shift: max_shift: expected an integer'),
    (lambda: ex.plot_augmentation_sweep(np.zeros((1, 8, 8))), ValueError, 'image: expected one (H, W) image'),
    (lambda: tha.augmentation_experiment(fraction=0.0), ValueError, 'fraction'),
    (lambda: tha.augmentation_experiment({'bad': 'flip'}), TypeError, "transforms['bad']"),
    (lambda: tha.augmentation_experiment({'none': None}, seeds=()), ValueError, 'seeds: expected at least one value'),
    (lambda: tha.augmentation_experiment({'none': None}, seeds=(0, -1)), ValueError, 'seeds[1]: expected a value >= 0'),
    (lambda: tha.augmentation_experiment({'none': None}, device='bogus'), ValueError, 'device'),
])
def test_bad_input(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


# --- per-image parameters: one per image, the right dtype, finite, in both backends ---

def _bad_parameters(n):
    "Per class: valid settings and parameters for a batch of `n` 4x4 images, and bad values of each parameter with the error."
    one_flag, one_shift = np.array([True]), np.array([[1, 0]])
    return {
        'RandomHorizontalFlip': (0.5, 'flip', [(np.array(['no'] * n), TypeError, 'expected booleans'),
                                             (np.full(n, np.nan), TypeError, 'expected booleans'),
                                             (np.ones(n), TypeError, 'expected booleans'),
                                             (one_flag, ValueError, f"expected shape ({n},)"),
                                             (True, TypeError, 'expected an array or tensor with one entry per image')]),
        'RandomVerticalFlip': (0.5, 'flip', [(np.array(['yes'] * n), TypeError, 'expected booleans'),
                                           (one_flag, ValueError, f"expected shape ({n},)")]),
        'RandomTranslation': (1, 'shifts', [(one_shift, ValueError, f"expected shape ({n}, 2)"),
                                          (np.full((n, 2), 0.5), TypeError, 'expected an integer dtype'),
                                          (np.ones((n, 2), dtype=bool), TypeError, 'expected an integer dtype'),
                                          (np.ones(n, dtype=int), ValueError, f"expected shape ({n}, 2)")]),
        'RandomCrop': (1, 'offsets', [(one_shift, ValueError, f"expected shape ({n}, 2)"),
                                     (np.full((n, 2), 3), ValueError, 'expected values in [0, 2]'),
                                     (np.full((n, 2), -1), ValueError, 'expected values in [0, 2]')]),
        'RandomRotation': (10.0, 'angles', [(np.array([5.0]), ValueError, f"expected shape ({n},)"),
                                           (np.full(n, np.nan), ValueError, 'contains NaN or inf'),
                                           (np.array(['a'] * n), TypeError, 'expected a numeric dtype')]),
        'GaussianNoise': (0.1, 'noise', [(np.zeros((1, 4, 4)), ValueError, f"expected shape ({n}, 4, 4)"),
                                        (np.full((n, 4, 4), np.nan), ValueError, 'contains NaN or inf'),
                                        (np.zeros((n, 4)), ValueError, f"expected shape ({n}, 4, 4)")]),
    }


@pytest.mark.parametrize('backend', list(BACKENDS))
@pytest.mark.parametrize('name', list(_bad_parameters(3)))
def test_apply_checks_every_parameter_per_image(backend, name):
    module, conv = BACKENDS[backend]
    setting, key, cases = _bad_parameters(3)[name]
    aug, x = getattr(module, name)(setting), conv(_batch((3, 4, 4)))
    good = aug.sample_params(x.shape, 0)
    assert aug.apply(x, good).shape == x.shape
    for bad, error, message in cases:
        for value in (bad, torch.as_tensor(bad) if isinstance(bad, np.ndarray) and bad.dtype.kind != 'U' else bad):
            with pytest.raises(error) as info: aug.apply(x, {key: value})
            assert f"params['{key}']: {message}" in str(info.value), (name, value)
    with pytest.raises(ValueError, match=f"params: missing '{key}'"): aug.apply(x, {})


@pytest.mark.parametrize('backend', list(BACKENDS))
def test_functions_check_parameters_per_image(backend):
    module, conv = BACKENDS[backend]
    two = conv(_batch((2, 4, 4)))
    for call, message in [(lambda: module.hflip(two, [True]), 'flip: expected shape (2,)'),
                          (lambda: module.vflip(two, np.array(['no', 'no'])), 'flip: expected booleans'),
                          (lambda: module.hflip(two, [np.nan, 1.0]), 'flip: expected booleans'),
                          (lambda: module.translate(two, [[1, 0]]), 'shifts: expected shape (2, 2)'),
                          (lambda: module.crop(two, torch.tensor([[1, 1]]), 1), 'offsets: expected shape (2, 2)'),
                          (lambda: module.rotate(two, 5.0), 'angles: expected an array or tensor'),
                          (lambda: module.add_noise(two, np.full((2, 4, 4), np.nan)), 'noise: contains NaN or inf')]:
        with pytest.raises((ValueError, TypeError)) as info: call()
        assert message in str(info.value)


@pytest.mark.parametrize('backend', list(BACKENDS))
def test_each_image_gets_its_own_offset(backend):
    "No broadcasting: two images shifted (and cropped) by two different offsets move differently."
    module, conv = BACKENDS[backend]
    x = np.zeros((2, 5, 5)); x[:, 2, 2] = 1.0
    moved = np.asarray(module.translate(conv(x), [[1, 0], [0, -2]]))
    assert moved[0, 3, 2] == 1.0 and moved[1, 2, 0] == 1.0 and moved.sum() == 2.0
    cropped = np.asarray(module.crop(conv(x), [[0, 0], [2, 2]], padding=1))
    assert cropped[0, 3, 3] == 1.0 and cropped[1, 1, 1] == 1.0


@pytest.mark.parametrize('backend', list(BACKENDS))
def test_a_huge_shift_leaves_zeros_without_a_huge_pad(backend):
    module, conv = BACKENDS[backend]
    out = module.translate(conv(np.ones((2, 3, 3))), [[10**12, 0], [0, -10**12]])
    assert np.asarray(out).sum() == 0.0


def test_compose_checks_images_as_its_transforms_do():
    mixed = npa.Compose([npa.RandomRotation(5.0), tha.RandomRotation(5.0)])
    for x in (_batch((2, 4, 4)), torch.from_numpy(_batch((2, 4, 4)))):
        with pytest.raises(TypeError, match='images: expected'): mixed(x, 0)
    assert isinstance(tha.Compose([tha.RandomRotation(5.0)])(torch.from_numpy(_batch((2, 4, 4))), 0), torch.Tensor)
    np.testing.assert_array_equal(npa.Compose([])(_batch((2, 4, 4)), 0), _batch((2, 4, 4)))


# --- random parameters cover their whole range, in both backends ---

N_DRAWS = 4000


def _one_hot_batch(n, size=9):
    "`n` images with a single bright pixel at the centre."
    x = np.zeros((n, size, size)); x[:, size // 2, size // 2] = 1.0
    return x


def _displacements(out, size=9):
    "Where each image's bright pixel went, as (rows down, columns right) from the centre."
    out = np.asarray(out).reshape(len(out), -1)
    assert (out.max(axis=1) == 1.0).all()
    rows, cols = np.divmod(out.argmax(axis=1), size)
    return np.stack([rows - size // 2, cols - size // 2], axis=1)


@pytest.mark.parametrize('backend', list(BACKENDS))
@pytest.mark.parametrize('max_shift', [1, 2, 3])
def test_translation_draws_every_shift_including_the_largest(backend, max_shift):
    module, conv = BACKENDS[backend]
    aug = module.RandomTranslation(max_shift)
    shifts = aug.sample_params((N_DRAWS, 9, 9), 0)['shifts']
    values = set(range(-max_shift, max_shift + 1))
    assert set(shifts[:, 0].tolist()) == values and set(shifts[:, 1].tolist()) == values
    moved = _displacements(aug(conv(_one_hot_batch(N_DRAWS)), 0))
    assert set(moved[:, 0].tolist()) == values and set(moved[:, 1].tolist()) == values
    counts = np.unique(moved[:, 0], return_counts=True)[1]
    assert counts.min() > 0.7 * N_DRAWS / len(values)                  # uniform, not merely present


@pytest.mark.parametrize('backend', list(BACKENDS))
@pytest.mark.parametrize('padding', [1, 2, 3])
def test_crop_draws_both_extreme_offsets(backend, padding):
    module, conv = BACKENDS[backend]
    aug = module.RandomCrop(padding)
    offsets = aug.sample_params((N_DRAWS, 9, 9), 1)['offsets']
    values = set(range(0, 2 * padding + 1))
    assert set(offsets[:, 0].tolist()) == values and set(offsets[:, 1].tolist()) == values
    moved = _displacements(aug(conv(_one_hot_batch(N_DRAWS)), 1))     # an offset o moves the image by padding - o
    shifts = set(range(-padding, padding + 1))
    assert set(moved[:, 0].tolist()) == shifts and set(moved[:, 1].tolist()) == shifts


@pytest.mark.parametrize('backend', list(BACKENDS))
@pytest.mark.parametrize('degrees', [10.0, 45.0, 180.0])
def test_rotation_angles_reach_both_ends_uniformly(backend, degrees):
    module, conv = BACKENDS[backend]
    angles = module.RandomRotation(degrees).sample_params((N_DRAWS, 4, 4), 2)['angles']
    assert -degrees <= angles.min() < -0.99 * degrees and 0.99 * degrees < angles.max() <= degrees
    counts = np.histogram(angles, bins=8, range=(-degrees, degrees))[0]
    assert counts.min() > 0.8 * N_DRAWS / 8                              # every eighth of the range, evenly


@pytest.mark.parametrize('backend', list(BACKENDS))
@pytest.mark.parametrize('cls', ['RandomHorizontalFlip', 'RandomVerticalFlip'])
def test_flip_probability(backend, cls):
    module, conv = BACKENDS[backend]
    for p in (0.0, 0.3, 1.0):
        flip = getattr(module, cls)(p).sample_params((N_DRAWS, 4, 4), 3)['flip']
        assert flip.dtype == bool and abs(flip.mean() - p) < 0.03


@pytest.mark.parametrize('backend', list(BACKENDS))
def test_noise_has_the_asked_spread(backend):
    module, conv = BACKENDS[backend]
    noise = module.GaussianNoise(0.2).sample_params((N_DRAWS, 4, 4), 4)['noise']
    assert abs(noise.mean()) < 0.005 and abs(noise.std() - 0.2) < 0.005


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


# --- defaults, exact error messages, non-square images, float32 arithmetic ---

def test_defaults_and_reprs_match_the_torch_twins():
    expected = ['RandomHorizontalFlip(p=0.5)', 'RandomVerticalFlip(p=0.5)', 'RandomTranslation(max_shift=1)',
                'RandomCrop(padding=1)', 'RandomRotation(degrees=10.0)', 'GaussianNoise(std=0.1)']
    names = [text.split('(')[0] for text in expected]
    assert [repr(getattr(npa, name)()) for name in names] == expected
    assert [repr(getattr(tha, name)()) for name in names] == expected
    assert repr(npa.digit_augmentation()) == 'Compose([RandomRotation(degrees=10.0), GaussianNoise(std=0.02)])'
    assert repr(npa.Compose([])) == 'Compose([])'


def test_augmented_scaler_uses_four_copies_by_default():
    from dlcourse.data import StandardScaler
    X, aug = _batch((5, 16)), npa.RandomTranslation(1)
    rng = np.random.default_rng(0)
    copies = [aug(X.reshape(-1, 4, 4), rng).reshape(X.shape) for _ in range(4)]
    expected = StandardScaler().fit(np.concatenate([X, *copies]))
    scaler = npa.augmented_scaler(X, aug, image_shape=(4, 4), generator=0)
    np.testing.assert_array_equal(scaler.mean_, expected.mean_)
    np.testing.assert_array_equal(scaler.scale_, expected.scale_)


def test_augment_draws_from_its_own_generator():
    X, y = _batch((10, 16)), np.arange(10)
    dl = DataLoader(ArrayDataset(X, y), batch_size=4)
    aug = npa.RandomRotation(30.0)
    first, again = list(npa.Augment(dl, aug, (4, 4), generator=7)), list(npa.Augment(dl, aug, (4, 4), generator=7))
    rng = np.random.default_rng(7)
    for (a, ya), (b, _), start in zip(first, again, (0, 4, 8)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, aug(X[start:start + 4].reshape(-1, 4, 4), rng).reshape(-1, 16))
        np.testing.assert_array_equal(ya, y[start:start + 4])


@pytest.mark.parametrize('call, error, message', [
    (lambda: npa.rotate(np.zeros((2, 4, 4)), [1.0]), ValueError,
     'angles: expected shape (2,), one entry per image of images (a batch of 2), got shape (1,)'),
    (lambda: npa.rotate(np.zeros((2, 4, 4)), 1.0), TypeError,
     'angles: expected an array or tensor with one entry per image of images, got float 1.0'),
    (lambda: npa.rotate(np.zeros((2, 4, 4)), np.array(['30', '40'])), TypeError, 'angles: expected a numeric dtype'),
    (lambda: npa.hflip(np.zeros((2, 4, 4)), [[True], [True, False]]), TypeError, 'flip: expected an array, got a ragged list'),
    (lambda: npa.bilinear_sample(np.zeros((1, 2, 2)), [[[0.0], [0.0, 1.0]]], np.zeros((1, 2, 2))), TypeError,
     'rows: expected an array, got a ragged list'),
    (lambda: npa.bilinear_sample(np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), [[[0.0], [0.0, 1.0]]]), TypeError,
     'cols: expected an array, got a ragged list'),
    (lambda: npa.bilinear_sample(np.zeros((2, 4, 4)), np.zeros((2, 16)), np.zeros((2, 16))), ValueError,
     'rows: expected a 3-D array, got shape (2, 16)'),
    (lambda: npa.crop_window(np.zeros((1, 6, 8)), [[3, 0]], 4, 4), ValueError,
     'offsets: expected values in [0, 2] for rows and [0, 4] for columns, got rows in [3, 3] and columns in [0, 0]'),
    (lambda: npa.crop_window(np.zeros((1, 6, 8)), [[0, 5]], 4, 4), ValueError,
     'offsets: expected values in [0, 2] for rows and [0, 4] for columns, got rows in [0, 0] and columns in [5, 5]'),
    (lambda: npa.crop_window(np.zeros((1, 6, 6)), [[3, 0]], 4, 4), ValueError,
     'offsets: expected values in [0, 2], got rows in [3, 3] and columns in [0, 0]'),
    (lambda: npa.crop_window(np.zeros((1, 8, 5)), [[0, 0]], 3, 6), ValueError, 'width: expected a value in [1, 5], got 6'),
    (lambda: npa.crop_window(np.zeros((1, 5, 8)), [[0, 0]], 6, 3), ValueError, 'height: expected a value in [1, 5], got 6'),
    (lambda: npa.digit_augmentation(degrees=-1), ValueError, 'degrees: expected a value >= 0, got -1'),
    (lambda: npa.Compose([npa.RandomRotation(5.0)]).apply(np.zeros((2, 4, 4)), [{'angles': [1.0]}]), ValueError,
     "params[0]['angles']: expected shape (2,)"),
    (lambda: npa.Compose([npa.RandomCrop(1)]).apply(np.zeros((2, 4, 4)), [{'offsets': [[0, 0]]}]), ValueError,
     "params[0]['offsets']: expected shape (2, 2)"),
    (lambda: npa.Compose([npa.RandomCrop(1), npa.RandomRotation(5.0)]).apply(np.zeros((1, 4, 4)), [{'offsets': [[0, 0]]}]),
     TypeError, 'params: expected a list of 2 parameter dicts, got list'),
    (lambda: npa.Compose([npa.RandomCrop(1)]).apply(np.zeros((1, 4, 4)), ({'offsets': [[0, 0]]},)), TypeError,
     'params: expected a list of 1 parameter dicts, got tuple'),
    (lambda: npa.Compose([])(np.zeros((4, 4)), 0), ValueError, 'images: expected a 3-D or 4-D array'),
    (lambda: npa.rows_as_images(np.zeros((2, 8, 8)), (8, 8)), TypeError, 'rows: expected a 2-D array of flattened images'),
    (lambda: npa.rotation_sources([[1.0], [1.0, 2.0]], 4, 4), TypeError, 'angles: expected an array, got a ragged list'),
    (lambda: npa.check_params([1.0], np.zeros((1, 4, 4)), npa.RandomRotation.spec), TypeError,
     'params: expected a dict from sample_params, got list'),
])
def test_exact_messages(call, error, message):
    with pytest.raises(error) as info: call()
    assert str(info.value).startswith(message), str(info.value)


def test_crop_window_on_non_square_images():
    tall = np.arange(2 * 8 * 5, dtype=np.float64).reshape(2, 8, 5)
    np.testing.assert_array_equal(npa.crop_window(tall, [[1, 0], [0, 2]], 7, 3),
                                  np.stack([tall[0, 1:8, 0:3], tall[1, 0:7, 2:5]]))
    np.testing.assert_array_equal(npa.crop_window(tall, [[7, 4], [0, 0]], 1, 1), [[[tall[0, 7, 4]]], [[tall[1, 0, 0]]]])
    wide = np.arange(5 * 8, dtype=np.float64).reshape(1, 1, 5, 8)
    np.testing.assert_array_equal(npa.crop_window(wide, [[0, 1]], 5, 7), wide[..., 0:5, 1:8])
    np.testing.assert_array_equal(npa.crop_window(wide[0], [[2, 1]], 3, 7), wide[0, :, 2:5, 1:8])
    np.testing.assert_array_equal(npa.crop(tall, np.zeros((2, 2), dtype=int), 0), tall)        # padding 0 is allowed
    assert npa.translate(tall[:1], [[10**12, 0]]).sum() == 0 and npa.translate(tall[:1], [[0, -10**12]]).sum() == 0


@pytest.mark.parametrize('backend', list(BACKENDS))
def test_torch_bool_flips_are_accepted(backend):
    module, conv = BACKENDS[backend]
    x = np.arange(2 * 2 * 3, dtype=np.float64).reshape(2, 2, 3)
    for flip in (torch.tensor([True, False]), np.array([True, False])):
        np.testing.assert_array_equal(np.asarray(module.hflip(conv(x), flip)), np.stack([x[0, :, ::-1], x[1]]))
        np.testing.assert_array_equal(np.asarray(module.RandomVerticalFlip().apply(conv(x), {'flip': flip})),
                                      np.stack([x[0, ::-1], x[1]]))


def test_float32_rotation_is_computed_in_float32_like_torch():
    rows, cols = npa.rotation_sources([30.0, -75.0], 5, 7, dtype='float32')
    assert rows.dtype == cols.dtype == np.float32
    rows64, cols64 = npa.rotation_sources([30.0, -75.0], 5, 7)
    assert rows64.dtype == cols64.dtype == np.float64
    for default in npa.rotation_sources([30.0, -75.0], 5, 7, dtype=None):
        assert default.dtype == np.float64
    np.testing.assert_allclose(rows, rows64, rtol=0, atol=1e-5)
    x = _batch((4, 2, 7, 9)).astype(np.float32)
    angles = np.array([-40.0, 5.0, 33.3, 170.0])
    out = npa.rotate(x, angles)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, tha.rotate(torch.from_numpy(x), angles).numpy())      # bit for bit


def test_one_pixel_images_rotate_to_themselves():
    x = np.array([[[0.7]], [[-2.0]]])
    np.testing.assert_array_equal(npa.rotate(x, [33.0, 0.0]), x)
    np.testing.assert_array_equal(tha.rotate(torch.from_numpy(x), [33.0, 0.0]).numpy(), x)
    # a quarter turn of a one-pixel-high (or -wide) image: output (0, 1 + d) reads from (d, 1), output (1 + d, 0) from (0, -d)
    rows, cols = npa.rotation_sources([90.0], 1, 3)
    np.testing.assert_allclose(rows, [[[-1.0, 0.0, 1.0]]], atol=1e-15)
    np.testing.assert_allclose(cols, [[[1.0, 1.0, 1.0]]], atol=1e-15)
    rows, cols = npa.rotation_sources([90.0], 3, 1)
    np.testing.assert_allclose(rows, [[[1.0], [1.0], [1.0]]], atol=1e-15)
    np.testing.assert_allclose(cols, [[[1.0], [0.0], [-1.0]]], atol=1e-15)


def test_integer_angles_are_degrees():
    x = _batch((2, 5, 5))
    np.testing.assert_allclose(npa.rotate(x, [90, 180]), np.stack([np.rot90(x[0]), np.rot90(x[1], 2)]), atol=1e-12)
    rows, cols = npa.rotation_sources(np.array([90, -90]), 5, 5)
    expected = npa.rotation_sources(np.array([90.0, -90.0]), 5, 5)
    np.testing.assert_array_equal(rows, expected[0])
    np.testing.assert_array_equal(cols, expected[1])


def test_empty_compose_and_rows_as_images_pass_tensors_through():
    t = torch.from_numpy(_batch((2, 4, 4)))
    assert npa.Compose([])(t, 0) is t
    assert npa.rows_as_images(torch.zeros(2, 16), (4, 4)).shape == (2, 4, 4)


@pytest.mark.parametrize('shape', [(2, 4.0, 4), (2, True, 4), (2, 0, 4), (2, -1, 4), (2, 4), (1, 2, 3, 4, 5)])
def test_batch_shapes_must_be_positive_integers(shape):
    with pytest.raises(ValueError) as info: npa.RandomRotation().sample_params(shape, 0)
    assert str(info.value) == f"shape: expected (N, H, W) or (N, C, H, W) of positive integers, got {shape}"


def test_batch_shapes_of_ones_numpy_integers_and_torch_sizes_are_accepted():
    assert npa.check_batch_shape((1, 1, 1)) == (1, 1, 1)
    checked = npa.check_batch_shape((np.int64(2), 3, np.int32(4)))
    assert checked == (2, 3, 4) and all(type(s) is int for s in checked)
    assert npa.check_batch_shape(torch.Size([2, 1, 3, 4])) == (2, 1, 3, 4)
    assert npa.RandomCrop().sample_params((1, 1, 1), 0)['offsets'].shape == (1, 2)
    assert npa.check_batch_shape([8, 8], 'image_shape', image=True) == (8, 8)
    with pytest.raises(ValueError) as info: npa.check_batch_shape((2, 8, 8, 1), 'image_shape', image=True)
    assert str(info.value) == 'image_shape: expected (H, W) or (C, H, W) of positive integers, got (2, 8, 8, 1)'
    with pytest.raises(TypeError) as info: npa.check_batch_shape('8x8')
    assert str(info.value) == "shape: expected a tuple (N, H, W) or (N, C, H, W) of positive integers, got str '8x8'"
