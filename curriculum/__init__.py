"""curriculum: the tested package behind the generative-models notebooks.

Module map (one responsibility each). Shared machinery is flat; a model family is a module or subpackage of
its own that imports shared modules only, never another family.

Shared
- ``checks``     input validation with clear, named errors
- ``runtime``    seeding, device choice, switchable progress bars, preserved random streams
- ``io``         atomic writes and ``weights_only`` loading
- ``tensors``    ``append_dims``: per-sample values broadcast against points or images
- ``protocol``   the one model interface: ``sample(n, generator)`` and a labelled ``log_likelihood``
- ``gaussians``  Gaussian log-densities, KLs, the Frechet distance, a reference ``Gaussian``, affine pushforwards
- ``toy``        ground truth on the plane (exact ``log_prob``, entropy with its error) and on the line
- ``baselines``  deliberately simple reference models (one Gaussian fitted by maximum likelihood)
- ``data``       the 8x8 digits with fixed splits (offline); full MNIST (opt-in download); the data folder
- ``metrics``    NLL, Monte Carlo mean and error, MMD, sliced Wasserstein, noise floors, classifier two-sample
                 test, mode coverage, Frechet distance, image sharpness
- ``features``   a small digits classifier: features and class predictions for image samples
- ``nets``       sinusoidal time embedding, time-conditioned MLP, conv encoder/decoder, small U-Net
- ``train``      the one training loop (``run_steps``) and ``fit``; history, divergence errors, checkpoints
- ``transport``  exact optimal transport: the assignment between point sets, W1 on the line and between sets
- ``langevin``   unadjusted Langevin dynamics from a score, and its stationary bias on a Gaussian
- ``ode``        fixed-step ODE solvers (Euler, Heun, RK4)
- ``plots``      the course's figures, one module per kind (a family adds ``plots/<family>.py``)
- ``syllabus``   the course map: topics, notebooks, section names
- ``drill``, ``assignments``, ``grading``  interview drills; student versions of the notebooks and the
                 student bundle; hiding an exercise's reference while an answer is graded

Families
- ``vae``        VAEs and the ELBO (notebook 01)
- ``gan``        GANs, the optimal discriminator and the JSD (notebook 02); Wasserstein GANs, the critic,
                 gradient penalty and weight clipping (notebook 03); one adversarial loop for both
- ``flows``      coupling flows (RealNVP) with exact likelihoods, dequantisation (notebook 04)
- ``ebm``        energy-based models: energy network, contrastive loss, replay buffer, log Z by quadrature
- ``diffusion``  DDPM and DDIM in separate pieces (notebook 06)

Import the modules you need (``from curriculum import toy, metrics``); nothing heavy is imported here.
"""
__version__ = "0.1.0"
