"""curriculum: the tested package behind the generative-models notebooks.

Module map (one responsibility each):

- ``checks``    input validation with clear, named errors
- ``runtime``   seeding, device choice, switchable progress bars
- ``io``        atomic writes and ``weights_only`` loading
- ``toy``       2-D ground-truth distributions: exact ``log_prob``, seeded ``sample``, entropy with its error
- ``baselines`` deliberately simple reference models (one Gaussian fitted by maximum likelihood)
- ``data``      the 8x8 digits with fixed splits (offline); full MNIST through torchvision (opt-in download)
- ``metrics``   NLL vs entropy, MMD, sliced Wasserstein, noise floors, classifier two-sample test,
                mode coverage, Frechet distance
- ``features``  a small digits classifier: features and class predictions for image samples
- ``nets``      sinusoidal time embedding, time-conditioned MLP, conv encoder/decoder, small U-Net
- ``train``     the one ``fit`` loop: history, divergence errors, checkpoints
- ``diffusion`` DDPM/DDIM in separate pieces: schedule, forward process, losses, samplers, Gaussian reference
- ``ode``       fixed-step ODE solvers (Euler, Heun, RK4)
- ``plots``     the course's figure style and plotting helpers

Import the modules you need (``from curriculum import toy, metrics``); nothing heavy is imported here.
"""
__version__ = "0.1.0"
