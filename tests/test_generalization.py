"Tests for dlcourse.explore.generalization: the lesson-9 capstone on digits with 10% of the training data."
import numpy as np
import pytest

from dlcourse.data import ArrayDataset, DataLoader, StandardScaler
from dlcourse.explore.generalization import (SETTINGS, Standardize, digit_augmentation, format_generalization,
                                             generalization_table, run_setting, small_digits)
from dlcourse.numpy.augment import Augment

def test_small_digits_is_a_stratified_tenth_in_pixel_space():
    data = small_digits()
    assert len(data.y_train) == 126
    counts = np.bincount(data.y_train, minlength=10)
    assert counts.min() >= 12 and counts.max() <= 13
    assert data.X_train.min() >= 0 and data.X_train.max() <= 1 and data.X_train.dtype == np.float32
    np.testing.assert_allclose(data.scaler.mean_, data.X_train.mean(axis=0), rtol=1e-5, atol=1e-7)

def test_small_digits_rejects_bad_fraction():
    with pytest.raises(ValueError, match='fraction'): small_digits(0.0)
    with pytest.raises(ValueError, match='fraction'): small_digits(1.5)

def test_augmentation_is_applied_before_standardization():
    data = small_digits()
    raw, y = data.X_train[:20], data.y_train[:20]
    aug = digit_augmentation()
    dl = Standardize(Augment(DataLoader(ArrayDataset(raw, y), batch_size=20), aug, generator=3), data.scaler)
    x, yb = next(iter(dl))
    params = aug.sample_params((20, 8, 8), np.random.default_rng(3))
    expected = data.scaler.transform(aug.apply(raw.reshape(20, 8, 8), params).reshape(20, 64))
    np.testing.assert_allclose(x, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(yb, y)
    assert len(dl) == 1

def test_standardize_rejects_bad_arguments():
    with pytest.raises(TypeError, match='dl'): Standardize(3, StandardScaler())
    with pytest.raises(TypeError, match='scaler'): Standardize([], 'scaler')

def test_run_setting_is_deterministic_per_seed():
    a, b = run_setting.__wrapped__('dropout', 1, epochs=3), run_setting.__wrapped__('dropout', 1, epochs=3)
    assert a.valid_accuracy == b.valid_accuracy and a.test_accuracy == b.test_accuracy
    np.testing.assert_array_equal(a.valid_curve, b.valid_curve)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    c = run_setting.__wrapped__('dropout', 2, epochs=3)
    assert not np.array_equal(a.train_loss, c.train_loss)

def test_run_setting_augment_is_deterministic_per_seed():
    a, b = run_setting.__wrapped__('augment', 0, epochs=2), run_setting.__wrapped__('augment', 0, epochs=2)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)

def test_run_setting_rejects_bad_arguments():
    with pytest.raises(ValueError, match='name'): run_setting('batchnorm')
    with pytest.raises(ValueError, match='seed'): run_setting('none', -1)
    with pytest.raises(ValueError, match='epochs'): run_setting('none', 0, epochs=0)

def test_table_has_all_six_settings():
    table = generalization_table(seeds=(0,), epochs=2)
    assert list(table) == ['none', 'dropout', 'l2', 'augment', 'early_stopping', 'combined'] == list(SETTINGS)
    for row in table.values():
        assert 0 <= row['valid_mean'] <= 1 and 0 <= row['test_mean'] <= 1 and row['valid_std'] == 0
    assert 'early_stopping' in format_generalization(table)
    with pytest.raises(ValueError, match='seeds'): generalization_table(seeds=())

def test_must_show_numbers():
    "The lesson's table: every setting reaches about 90% validation accuracy with 10% of the data."
    table = generalization_table()
    for name, row in table.items():
        assert 0.85 < row['valid_mean'] < 0.95, name
    assert table['early_stopping']['epochs'] < 60
