"Tests for dlcourse.explore.generalization: the lesson-9 capstone on digits with 10% of the training data."
import numpy as np
import pytest

from dlcourse.recipes import SPLIT_SEED, digit_loaders
from dlcourse.data import digits_splits
from dlcourse.explore.generalization import SETTINGS, format_generalization, generalization_table, run_setting
from dlcourse.numpy.augment import augmented_scaler, digit_augmentation


def test_the_data_is_a_stratified_tenth_in_pixel_space():
    data = digits_splits(SPLIT_SEED, fraction=0.1, standardize=False)
    assert len(data.y_train) == 126
    counts = np.bincount(data.y_train, minlength=10)
    assert counts.min() >= 12 and counts.max() <= 13
    assert data.X_train.min() >= 0 and data.X_train.max() <= 1 and data.X_train.dtype == np.float32
    np.testing.assert_allclose(data.scaler.mean_, data.X_train.mean(axis=0), rtol=1e-5, atol=1e-7)


def test_augmentation_is_applied_before_standardization_with_the_refitted_scaler():
    data = digits_splits(SPLIT_SEED, fraction=0.1, standardize=False)
    train_dl, valid_dl, test_dl = digit_loaders(data, batch_size=20, seed=3, augment=True)
    x, yb = next(iter(train_dl))
    order = np.random.default_rng(3).permutation(len(data.y_train))[:20]
    aug = digit_augmentation()
    params = aug.sample_params((20, 8, 8), np.random.default_rng(5))
    scaler = augmented_scaler(data.X_train, aug, generator=4)
    expected = scaler.transform(aug.apply(data.X_train[order].reshape(20, 8, 8), params).reshape(20, 64))
    np.testing.assert_allclose(x, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(yb, data.y_train[order])
    np.testing.assert_allclose(next(iter(test_dl))[0], scaler.transform(data.X_test), rtol=1e-6, atol=1e-6)
    assert len(train_dl) == 7


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


def test_augmentation_helps_with_five_percent_of_the_data():
    "The explorer's finding: with 63 training images augmentation beats no augmentation on validation and test."
    table = generalization_table((0, 1, 2), fraction=0.05, settings=('none', 'augment'))
    assert table['augment']['valid_mean'] > table['none']['valid_mean'] + 0.015
    assert table['augment']['test_mean'] > table['none']['test_mean'] + 0.015


def test_generalization_table_rejects_unknown_settings():
    with pytest.raises(ValueError, match='settings'): generalization_table((0,), epochs=1, settings=('batchnorm',))


def test_generalization_functions_reject_bad_tables_and_arguments():
    import matplotlib.pyplot as plt
    from dlcourse.explore.generalization import draw_generalization, plot_generalization
    table = generalization_table(seeds=(0,), epochs=1, settings=('none',))
    with pytest.raises(TypeError, match='table: expected the non-empty dict'): format_generalization({})
    with pytest.raises(TypeError, match="table: expected a row with runs"): format_generalization({'none': {}})
    with pytest.raises(ValueError, match='table: expected one of'): plot_generalization({'batchnorm': table['none']})
    with pytest.raises(TypeError, match='ax: expected a matplotlib Axes'): plot_generalization(table, ax='left')
    with pytest.raises(ValueError, match='fraction'): plot_generalization(table, fraction=0.0)
    with pytest.raises(TypeError, match='seeds: expected a list, tuple or 1-D array of numbers'): generalization_table(seeds=3)
    with pytest.raises(ValueError, match=r'seeds\[1\]: expected a value >= 0'): generalization_table(seeds=(0, -1))
    with pytest.raises(TypeError, match='settings: expected a sequence'): generalization_table((0,), settings=object())
    with pytest.raises(TypeError, match='none: expected True or False'): draw_generalization(0.1, 1, none='yes')
    with pytest.raises(ValueError, match='ticked: expected one of'): draw_generalization(0.1, 1, batchnorm=True)
    assert plot_generalization(table, fraction=0.1).get_title().startswith('Digits with 10%')
    plt.close('all')
