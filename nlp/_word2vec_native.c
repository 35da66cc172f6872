/* CBOW with negative sampling on one chunk of the corpus, word by word, as word2vec.c
 * and gensim train it: the CPU kernel of groundup.nlp.Word2Vec(sg=0).
 *
 * For each centre word i (in corpus order) whose window positions left[i]..right[i]
 * (inclusive, the centre excluded) hold at least one word:
 *
 *     h      = mean (or sum) of W_in[context]                      the hidden layer
 *     for t in [word, noise_1 .. noise_K]  (noise equal to the word skipped):
 *         g       = (label - sigmoid(W_out[t] . h)) * lr           label 1 for the word
 *         grad_h += g * W_out[t]
 *         W_out[t] += g * h
 *     W_in[c] += grad_h  for every context word c                   (grad_h / count for a sum)
 *
 * It is the same update as the batched torch step in _word2vec_steps.py, one centre at
 * a time, so no update waits for a batch to finish. Several threads may call it at once
 * on the same tables without locks (Hogwild, as word2vec.c and gensim do); Python's
 * ctypes releases the GIL for the call.
 *
 * Skip-gram has no kernel here: its batched torch step is already faster than gensim
 * with several workers, and a word-by-word kernel measured no faster with two. */

#include <math.h>
#include <stdint.h>

static inline float dot(const float *a, const float *b, int64_t d) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < d; j++) s += a[j] * b[j];
    return s;
}

static inline void axpy(float alpha, const float *x, float *y, int64_t d) {
#pragma omp simd
    for (int64_t j = 0; j < d; j++) y[j] += alpha * x[j];
}

/* ids, left, right: n positions of the chunk (after subsampling); noise: n rows of K noise
 * words; W_in, W_out: the (V + 1, d) tables; loss: where to add the negative log-likelihood
 * (NULL to skip it). Returns the number of centre words trained. */
int64_t cbow_chunk(const int64_t *ids, const int64_t *left, const int64_t *right, int64_t n,
                   const int64_t *noise, int64_t K, float *W_in, float *W_out, int64_t d,
                   float lr, int cbow_mean, double *loss) {
    float h[d], grad_h[d];
    int64_t trained = 0;
    double loss_sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        int64_t count = right[i] - left[i];  /* window words, the centre excluded */
        if (count <= 0) continue;
        for (int64_t j = 0; j < d; j++) h[j] = 0.0f, grad_h[j] = 0.0f;
        for (int64_t p = left[i]; p <= right[i]; p++)
            if (p != i) axpy(1.0f, W_in + ids[p] * d, h, d);
        if (cbow_mean) {
            float inv = 1.0f / (float)count;
            for (int64_t j = 0; j < d; j++) h[j] *= inv;
        }
        int64_t word = ids[i];
        for (int64_t k = 0; k <= K; k++) {
            int64_t target = k == 0 ? word : noise[i * K + k - 1];
            if (k > 0 && target == word) continue;
            float *u = W_out + target * d;
            float f = 1.0f / (1.0f + expf(-dot(u, h, d)));
            float g = ((k == 0 ? 1.0f : 0.0f) - f) * lr;
            if (loss) loss_sum -= log(fmax(k == 0 ? f : 1.0f - f, 1e-7f));
            axpy(g, u, grad_h, d);
            axpy(g, h, u, d);
        }
        if (!cbow_mean) {
            float inv = 1.0f / (float)count;  /* gensim divides the summed window's error */
            for (int64_t j = 0; j < d; j++) grad_h[j] *= inv;
        }
        for (int64_t p = left[i]; p <= right[i]; p++)
            if (p != i) axpy(1.0f, grad_h, W_in + ids[p] * d, d);
        trained++;
    }
    if (loss) *loss += loss_sum;
    return trained;
}
